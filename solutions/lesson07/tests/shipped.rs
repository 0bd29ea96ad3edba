lab_tests::shipped!(lesson07, lesson07_suite);
