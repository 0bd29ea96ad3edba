lab_tests::lesson08_suite!(solution08);
