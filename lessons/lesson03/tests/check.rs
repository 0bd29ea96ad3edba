lab_tests::lesson03_suite!(lesson03);
