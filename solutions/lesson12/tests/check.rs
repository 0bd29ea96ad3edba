lab_tests::lesson12_suite!(solution12);
