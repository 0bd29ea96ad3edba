lab_tests::lesson04_suite!(solution04);
