lab_tests::lesson02_suite!(lesson02);
