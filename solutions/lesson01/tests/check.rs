lab_tests::lesson01_suite!(solution01);
