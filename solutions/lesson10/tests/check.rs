lab_tests::lesson10_suite!(solution10);
