lab_tests::lesson11_suite!(solution11);
