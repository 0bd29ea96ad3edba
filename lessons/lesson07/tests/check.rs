lab_tests::lesson07_suite!(lesson07);
