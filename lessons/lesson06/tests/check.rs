lab_tests::lesson06_suite!(lesson06);
