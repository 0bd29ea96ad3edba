lab_tests::lesson08_suite!(lesson08);
