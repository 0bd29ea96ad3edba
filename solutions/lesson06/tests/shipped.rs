lab_tests::shipped!(lesson06, lesson06_suite);
