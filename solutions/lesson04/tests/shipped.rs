lab_tests::shipped!(lesson04, lesson04_suite);
