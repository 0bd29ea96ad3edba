lab_tests::shipped!(lesson03, lesson03_suite);
