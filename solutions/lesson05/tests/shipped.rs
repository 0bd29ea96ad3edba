lab_tests::shipped!(lesson05, lesson05_suite);
