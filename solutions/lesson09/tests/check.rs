lab_tests::lesson09_suite!(solution09);
