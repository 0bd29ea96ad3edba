lab_tests::lesson04_suite!(lesson04);
