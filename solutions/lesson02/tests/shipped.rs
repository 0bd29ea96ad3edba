lab_tests::shipped!(lesson02, lesson02_suite);
