lab_tests::lesson05_suite!(lesson05);
