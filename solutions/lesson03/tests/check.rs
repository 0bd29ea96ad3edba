lab_tests::lesson03_suite!(solution03);
