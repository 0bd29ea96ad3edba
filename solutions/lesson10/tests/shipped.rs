lab_tests::shipped!(lesson10, lesson10_suite);
