//! `cargo lab`'s subcommands in a pipe, on a scratch course whose checks a
//! stand-in for cargo answers (see `support/mod.rs`).
#![cfg(unix)]

mod support;

use support::{LESSON03_STEPS, Scratch, shipped, stderr, stdout};

fn plain(text: &str) {
    assert!(
        !text.contains('\u{1b}'),
        "no escape codes in a pipe: {text:?}"
    );
}

#[test]
fn list_gives_one_line_per_lesson_and_checks_only_what_changed() {
    let course = Scratch::new();
    let out = course.lab(&["list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "02  Open the browser    not started\n03  Ask for permission  not started\n\n0 of 2 lessons passed.\n"
    );
    // Lesson 02 written, lesson 03 half written and wrong.
    course.write("lessons/lesson02/src/lib.rs", "pub fn step1() {}\n");
    course.write(
        "lessons/lesson03/src/lib.rs",
        "pub fn step1() {} // WRONG\npub fn step2() {}\n",
    );
    let out = course.lab(&["list"]);
    let text = stdout(&out);
    plain(&text);
    assert_eq!(
        text,
        "02  Open the browser    passed\n03  Ask for permission  1 of 2 checks\n\n1 of 2 lessons passed.\n"
    );
    // Remembered: with no cargo at all, the same answer.
    std::fs::write(course.path("fake-cargo"), "#!/bin/sh\nexit 3\n").unwrap();
    assert_eq!(stdout(&course.lab(&["list"])), text);
    // A change is checked again.
    course.write("lessons/lesson02/src/lib.rs", "pub fn step1() { }\n");
    assert!(stdout(&course.lab(&["list"])).contains("02  Open the browser    does not compile"));
}

#[test]
fn hint_gives_the_next_layer_each_time_and_remembers_it() {
    let course = Scratch::new();
    let first = course.lab(&["hint", "03"]);
    assert!(first.status.success());
    assert_eq!(
        stdout(&first),
        "Hint 1 of 3: Five parameters.\n(cargo lab hint 03 again for the next one)\n"
    );
    assert!(
        stdout(&course.lab(&["hint", "3"]))
            .starts_with("Hint 2 of 3: url::Url does the encoding.\n")
    );
    let last = stdout(&course.lab(&["hint", "lesson03"]));
    assert!(last.starts_with("Hint 3 of 3: query_pairs_mut()\n"));
    assert!(last.contains("the lesson's solution page, book/src/lesson03/solution.md"));
    // The last layer stays; another lesson counts on its own.
    assert!(stdout(&course.lab(&["hint", "03"])).starts_with("Hint 3 of 3:"));
    assert!(stdout(&course.lab(&["hint", "02"])).starts_with("Hint 1 of 2: Listen first.\n"));
    let all = stdout(&course.lab(&["hint", "02", "--all"]));
    assert_eq!(
        all,
        "Hint 1 of 2: Listen first.\nHint 2 of 2: labkit::listen(port)?\n"
    );
    assert!(
        course
            .read(".lab/state.json")
            .contains("\"hints_shown\": 3")
    );
}

#[test]
fn check_runs_the_checks_once_and_exits_with_their_result() {
    let course = Scratch::new();
    let out = course.lab(&["check", "03"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    plain(&text);
    assert_eq!(
        text,
        "Lesson 03: Ask for permission\n\
         0 of 2 checks pass (not started)\n\
         Step 1 of 2: make a fresh state\n\
         first failing check: makes_a_state — not yet implemented: Step 1: make a fresh state — see chapter 3 (book/src/lesson03/index.md)\n\
         Read: book/src/lesson03/index.md, section \"What to write\"\n"
    );
    // Step 1 written: the checks stop at step 2.
    let source = shipped("03", LESSON03_STEPS);
    let step2 = source.replacen("todo!(\"Step 1", "// done\n    (\"Step 1", 1);
    course.write("lessons/lesson03/src/lib.rs", &step2);
    assert!(
        stdout(&course.lab(&["check", "03"]))
            .contains("Step 2 of 2: build the authorization URL\n")
    );
    // Everything written, one check wrong: what can go wrong.
    course.write("lessons/lesson03/src/lib.rs", "// WRONG\n");
    let text = stdout(&course.lab(&["check", "03"]));
    assert!(text.contains("1 of 2 checks pass\nfirst failing check: builds_the_url — the URL has no state parameter\n"), "{text}");
    assert!(text.contains("section \"What can go wrong\""));
    course.write("lessons/lesson03/src/lib.rs", "// does not compile\n");
    let text = stdout(&course.lab(&["check", "03"]));
    assert!(
        text.contains(
            "does not compile: error[E0308]: mismatched types at lessons/lesson03/src/lib.rs:2:5"
        ),
        "{text}"
    );
    course.write("lessons/lesson03/src/lib.rs", "pub fn step1() {}\n");
    let out = course.lab(&["check", "03"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "Lesson 03: Ask for permission\npassed: all 2 checks\n"
    );
}

#[test]
fn reset_restores_the_file_as_shipped_from_git_and_keeps_the_student_s() {
    let course = Scratch::new();
    let shipped = course.read("lessons/lesson03/src/lib.rs");
    course.git(&["init", "-q"]);
    course.git(&["add", "."]);
    course.git(&["commit", "-q", "-m", "the course"]);
    // The student's own commit of half-written work is not "as shipped".
    course.write("lessons/lesson03/src/lib.rs", "pub fn step1() {}\n");
    course.git(&["commit", "-q", "-am", "my step 1"]);
    course.write("lessons/lesson03/src/lib.rs", "my work in progress\n");

    let out = course.lab(&["reset", "03"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    plain(&text);
    assert!(
        text.starts_with("lessons/lesson03/src/lib.rs is back as shipped (from commit "),
        "{text}"
    );
    assert_eq!(course.read("lessons/lesson03/src/lib.rs"), shipped);
    let kept = text
        .split("Your version is kept in ")
        .nth(1)
        .unwrap()
        .trim_end()
        .trim_end_matches('.');
    assert!(kept.starts_with(".lab/backup/lesson03-lib.rs."), "{kept}");
    assert_eq!(course.read(kept), "my work in progress\n");

    let again = course.lab(&["reset", "03"]);
    assert_eq!(
        stdout(&again),
        "lessons/lesson03/src/lib.rs is already as shipped: nothing to do.\n"
    );
}

#[test]
fn reset_without_git_history_changes_nothing_and_says_what_to_do() {
    let course = Scratch::new();
    course.write("lessons/lesson03/src/lib.rs", "my work\n");
    let out = course.lab(&["reset", "03"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "error: cannot find lessons/lesson03/src/lib.rs as shipped in git history ("
        ),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("copy that file from a fresh copy of the course (your file is unchanged)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(course.read("lessons/lesson03/src/lib.rs"), "my work\n");
}

#[test]
fn a_lesson_that_does_not_exist_and_the_watch_in_a_pipe_say_what_to_do() {
    let course = Scratch::new();
    let out = course.lab(&["check", "07"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: there is no lesson 07: the lessons are 02, 03 (see cargo lab list)\n"
    );
    let out = course.lab(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("the watch needs a terminal; here use cargo lab list, cargo lab check NN")
    );
}
