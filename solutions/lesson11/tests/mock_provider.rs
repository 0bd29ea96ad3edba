lab_tests::lesson11_suite!(e2e, solution11);
