lab_tests::shipped!(lesson01, lesson01_suite);
