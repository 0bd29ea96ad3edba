lab_tests::lesson11_suite!(lesson11);
