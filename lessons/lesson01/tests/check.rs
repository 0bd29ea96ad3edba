lab_tests::lesson01_suite!(lesson01);
