lab_tests::lesson05_suite!(solution05);
