lab_tests::shipped!(lesson09, lesson09_suite);
