lab_tests::shipped!(lesson11, lesson11_suite);
