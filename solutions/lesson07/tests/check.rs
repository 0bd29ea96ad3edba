lab_tests::lesson07_suite!(solution07);
