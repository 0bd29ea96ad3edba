lab_tests::lesson06_suite!(solution06);
