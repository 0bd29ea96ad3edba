lab_tests::lesson02_suite!(solution02);
