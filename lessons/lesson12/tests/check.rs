lab_tests::lesson12_suite!(lesson12);
