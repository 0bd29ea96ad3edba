lab_tests::lesson09_suite!(lesson09);
