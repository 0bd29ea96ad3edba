lab_tests::shipped!(lesson08, lesson08_suite);
