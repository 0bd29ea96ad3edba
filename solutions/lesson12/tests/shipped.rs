lab_tests::shipped!(lesson12, lesson12_suite);
