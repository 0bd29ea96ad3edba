lab_tests::lesson10_suite!(lesson10);
