//! The watch screen as a state machine, without a terminal: an [`Event`]
//! (a save, a key, a finished check or run) changes the [`Screen`] and asks
//! for [`Effect`]s (run the checks, run the program, remember a hint, quit);
//! [`Screen::view`] is the text to draw. `watch.rs` wires it to the terminal
//! and the file watcher; the tests below drive it directly.

use lab_tests::course::Lesson;
use lab_tests::grade::Status;

use crate::course::{Report, Standing};

/// Lessons before this one have no `--simulate-user`: they wait for a browser.
const FIRST_SIMULATED_LESSON: u32 = 3;

/// The last lines of the lesson program's output shown after `r`.
const PROGRAM_LINES: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A file of the lesson was saved (already debounced).
    Saved,
    Key(char),
    Checked(Report),
    /// The checks could not be run at all (no cargo, …).
    CheckFailed(String),
    /// The lesson program ended: whether it succeeded, and what it printed.
    Ran {
        ok: bool,
        output: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run the checks of this lesson (by index) and send [`Event::Checked`].
    Check(usize),
    /// Run this lesson's program with `--simulate-user alice`, send [`Event::Ran`].
    Run(usize),
    /// Watch this lesson's files instead.
    Watch(usize),
    /// Remember that this lesson has shown this many hint layers.
    RememberHints(usize, usize),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Program {
    Running,
    Done { ok: bool, output: String },
}

pub struct Screen {
    lessons: Vec<Lesson>,
    standings: Vec<Standing>,
    hints_shown: Vec<usize>,
    current: usize,
    checking: bool,
    /// Saved again while a check was running: check once more after it.
    check_again: bool,
    report: Option<Report>,
    program: Option<Program>,
    /// A one-line answer to the last key (e.g. why `n` did nothing).
    note: Option<String>,
    listing: bool,
}

impl Screen {
    /// The screen for `current`, whose first check starts right away (see
    /// [`Screen::start`]).
    pub fn new(
        lessons: Vec<Lesson>,
        standings: Vec<Standing>,
        hints_shown: Vec<usize>,
        current: usize,
    ) -> Screen {
        Screen {
            lessons,
            standings,
            hints_shown,
            current,
            checking: false,
            check_again: false,
            report: None,
            program: None,
            note: None,
            listing: false,
        }
    }

    /// The effects of opening the screen: watch and check the lesson.
    pub fn start(&mut self) -> Vec<Effect> {
        self.checking = true;
        vec![Effect::Watch(self.current), Effect::Check(self.current)]
    }

    pub fn update(&mut self, event: Event) -> Vec<Effect> {
        match event {
            Event::Saved if self.checking => {
                self.check_again = true;
                vec![]
            }
            Event::Saved => {
                self.checking = true;
                self.note = None;
                vec![Effect::Check(self.current)]
            }
            Event::Checked(report) => {
                self.standings[report.index] =
                    Standing::of(report.grade.status, report.grade.passed, report.grade.total);
                if report.index != self.current {
                    return vec![];
                }
                self.report = Some(report);
                if std::mem::take(&mut self.check_again) {
                    return vec![Effect::Check(self.current)];
                }
                self.checking = false;
                vec![]
            }
            Event::CheckFailed(why) => {
                self.checking = false;
                self.check_again = false;
                self.note = Some(why);
                vec![]
            }
            Event::Ran { ok, output } => {
                self.program = Some(Program::Done { ok, output });
                vec![]
            }
            Event::Key(key) if self.listing => {
                self.listing = false;
                if key == 'q' {
                    vec![Effect::Quit]
                } else {
                    vec![]
                }
            }
            Event::Key(key) => self.key(key),
        }
    }

    fn key(&mut self, key: char) -> Vec<Effect> {
        self.note = None;
        let lesson = &self.lessons[self.current];
        match key {
            'q' => vec![Effect::Quit],
            'l' => {
                self.listing = true;
                vec![]
            }
            'h' => {
                let shown = &mut self.hints_shown[self.current];
                if *shown < lesson.hints.len() {
                    *shown += 1;
                    vec![Effect::RememberHints(self.current, *shown)]
                } else {
                    self.note = Some(format!(
                        "That was the last hint. Then comes the lesson's solution page, book/src/{}.",
                        lesson.chapter.replace("index.md", "solution.md")
                    ));
                    vec![]
                }
            }
            'r' if lesson.id.parse::<u32>().unwrap_or(0) < FIRST_SIMULATED_LESSON => {
                self.note = Some(format!(
                    "Lesson {} waits for your browser: run `cargo run -p {}` in another terminal and open the address it prints.",
                    lesson.id, lesson.package
                ));
                vec![]
            }
            'r' if self.program == Some(Program::Running) => vec![],
            'r' => {
                self.program = Some(Program::Running);
                vec![Effect::Run(self.current)]
            }
            'n' if self.standings[self.current] != Standing::Passed => {
                self.note = Some(format!(
                    "n moves on once lesson {} passes; it does not yet.",
                    lesson.id
                ));
                vec![]
            }
            'n' if self.current + 1 == self.lessons.len() => {
                self.note = Some("That was the last lesson: the course is done.".into());
                vec![]
            }
            'n' => {
                self.current += 1;
                self.report = None;
                self.program = None;
                self.checking = true;
                self.check_again = false;
                vec![Effect::Watch(self.current), Effect::Check(self.current)]
            }
            _ => vec![],
        }
    }

    /// The screen's lines, plain (no colours or escape codes).
    pub fn view(&self) -> Vec<String> {
        if self.listing {
            let mut lines = list_lines(&self.lessons, &self.standings);
            lines.push(String::new());
            lines.push("Press any key to go back, q to quit.".into());
            return lines;
        }
        let lesson = &self.lessons[self.current];
        let passed = self
            .standings
            .iter()
            .filter(|s| **s == Standing::Passed)
            .count();
        let mut lines = vec![
            format!(
                "OAuth2 Lab · lesson {} of {}: {} (about {} minutes)",
                lesson.id,
                self.lessons.len(),
                lesson.title,
                lesson.minutes
            ),
            format!(
                "Course {} {passed} of {} lessons passed",
                bar(passed, self.lessons.len(), 20),
                self.lessons.len()
            ),
            String::new(),
        ];
        match &self.report {
            None => lines.push(format!(
                "Checking lesson {}… (the first check of a lesson builds it: a minute or two)",
                lesson.id
            )),
            Some(report) => self.report_lines(report, &mut lines),
        }
        match &self.program {
            Some(Program::Running) => {
                lines.push(String::new());
                lines.push(format!(
                    "Running cargo run -p {} -- --simulate-user alice…",
                    lesson.package
                ));
            }
            Some(Program::Done { ok, output }) => {
                lines.push(String::new());
                lines.push(format!(
                    "cargo run -p {} -- --simulate-user alice {}:",
                    lesson.package,
                    if *ok { "finished" } else { "failed" }
                ));
                let all: Vec<&str> = output.lines().collect();
                let from = all.len().saturating_sub(PROGRAM_LINES);
                lines.extend(all[from..].iter().map(|l| format!("  {l}")));
            }
            None => {}
        }
        let shown = self.hints_shown[self.current];
        if shown > 0
            && self
                .report
                .as_ref()
                .is_none_or(|r| r.grade.status != Status::Passed)
        {
            lines.push(String::new());
            lines.push(format!(
                "Hint {shown} of {}: {}",
                lesson.hints.len(),
                lesson.hints[shown - 1]
            ));
        }
        lines.push(String::new());
        if let Some(note) = &self.note {
            lines.push(note.clone());
        }
        lines.push(if self.checking && self.report.is_some() {
            format!("Checking lesson {} again…", lesson.id)
        } else {
            format!(
                "Watching lessons/{}/src: save a file to check again.",
                lesson.package
            )
        });
        let hint_key = if shown < lesson.hints.len() {
            format!("h hint {} of {}", shown + 1, lesson.hints.len())
        } else {
            "h hints shown".into()
        };
        lines.push(format!(
            "{hint_key} · r run · n next lesson · l list · q quit"
        ));
        lines
    }

    fn report_lines(&self, report: &Report, lines: &mut Vec<String>) {
        let lesson = &self.lessons[self.current];
        let grade = &report.grade;
        match grade.status {
            Status::Passed => {
                lines.push(format!(
                    "✓ Lesson {} passed: all {} checks.",
                    lesson.id, grade.total
                ));
                match self.lessons.get(self.current + 1) {
                    Some(next) => lines.push(format!(
                        "Next, lesson {}: {}. You will {}. Press n to start it.",
                        next.id,
                        next.title,
                        next.steps.join("; ")
                    )),
                    None => lines.push("That was the last lesson: the course is done.".into()),
                }
                return;
            }
            Status::DoesNotCompile => {
                lines.push(format!("✗ Lesson {} does not compile:", lesson.id));
                lines.push(format!("  {}", grade.message.as_deref().unwrap_or("")));
                lines.push(format!(
                    "  The compiler's whole message: cargo test -p {}",
                    lesson.package
                ));
            }
            Status::TimedOut => {
                lines.push(format!(
                    "✗ Lesson {}'s checks never finished: {}",
                    lesson.id,
                    grade.message.as_deref().unwrap_or("")
                ));
                lines.push(
                    "  A check waits on your code: look for a loop that never ends, or a wait with no deadline."
                        .into(),
                );
            }
            Status::Failed | Status::NotStarted => {
                if let Some(step) = &report.step {
                    // A long lesson is worked in sittings: say which one.
                    if let Some((n, of, part)) = lesson.part_of(step.number) {
                        lines.push(format!(
                            "Part {n} of {of}: {} (about {} minutes)",
                            part.title, part.minutes
                        ));
                    }
                    lines.push(format!(
                        "Step {} of {}: {}",
                        step.number, step.of, step.name
                    ));
                } else {
                    lines.push("Every step is written; a check still fails.".into());
                }
                lines.push(format!("Checks: {} of {} pass", grade.passed, grade.total));
                lines.push(format!(
                    "✗ {}",
                    grade.first_failure.as_deref().unwrap_or("(no check ran)")
                ));
                lines.push(format!("  {}", grade.message.as_deref().unwrap_or("")));
            }
        }
        lines.push(format!("Read: {}", report.read));
    }
}

/// `[████░░░░]`: `done` of `all`, `width` cells.
pub fn bar(done: usize, all: usize, width: usize) -> String {
    let filled = (done * width).checked_div(all).unwrap_or(0);
    format!("[{}{}]", "█".repeat(filled), "░".repeat(width - filled))
}

/// One line per lesson: id, title, standing (what `cargo lab list` prints).
pub fn list_lines(lessons: &[Lesson], standings: &[Standing]) -> Vec<String> {
    let width = lessons
        .iter()
        .map(|l| l.title.chars().count())
        .max()
        .unwrap_or(0);
    lessons
        .iter()
        .zip(standings)
        .map(|(l, s)| {
            let title = format!("{:<width$}", l.title);
            format!("{}  {title}  {}", l.id, s.describe())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::Step;
    use lab_tests::grade::Grade;

    fn lesson(id: &str, title: &str, steps: &[&str]) -> Lesson {
        Lesson {
            id: id.into(),
            package: format!("lesson{id}"),
            solution: format!("solution{id}"),
            files: vec!["src/lib.rs".into()],
            title: title.into(),
            minutes: 20,
            points: None,
            check_points: Default::default(),
            chapter: format!("lesson{id}/index.md"),
            steps: steps.iter().map(|s| s.to_string()).collect(),
            hints: vec!["a nudge".into(), "nearly the answer".into()],
            parts: vec![],
        }
    }

    /// Lessons 02 and 03, on lesson 02, its first check running.
    fn screen() -> Screen {
        let lessons = vec![
            lesson("02", "Open the browser", &["listen, then open"]),
            lesson(
                "03",
                "Ask for permission",
                &["make a state", "build the URL"],
            ),
        ];
        let mut s = Screen::new(lessons, vec![Standing::NotStarted; 2], vec![0, 0], 0);
        assert_eq!(s.start(), [Effect::Watch(0), Effect::Check(0)]);
        s
    }

    fn report(index: usize, status: Status, passed: usize, message: Option<&str>) -> Report {
        Report {
            index,
            grade: Grade {
                id: String::new(),
                package: String::new(),
                title: String::new(),
                status,
                passed,
                total: 4,
                first_failure: message.map(|_| "the_check".into()),
                message: message.map(String::from),
                points: 0.0,
                max_points: 10,
            },
            step: message.filter(|m| m.contains("Step")).map(|_| Step {
                number: 1,
                of: 1,
                name: "listen, then open".into(),
            }),
            read: "book/src/lesson02/index.md, section \"What to write\"".into(),
        }
    }

    fn text(s: &Screen) -> String {
        s.view().join("\n")
    }

    const TODO: &str = "not yet implemented: Step 1: listen, then open — see chapter 2";

    #[test]
    fn a_check_shows_the_step_the_failing_check_and_what_to_read() {
        let mut s = screen();
        assert!(text(&s).contains("Checking lesson 02…"));
        assert_eq!(
            s.update(Event::Checked(report(0, Status::NotStarted, 0, Some(TODO)))),
            []
        );
        let t = text(&s);
        for expected in [
            "OAuth2 Lab · lesson 02 of 2: Open the browser (about 20 minutes)",
            "Course [░░░░░░░░░░░░░░░░░░░░] 0 of 2 lessons passed",
            "Step 1 of 1: listen, then open",
            "Checks: 0 of 4 pass",
            "✗ the_check",
            TODO,
            "Read: book/src/lesson02/index.md, section \"What to write\"",
            "Watching lessons/lesson02/src: save a file to check again.",
            "h hint 1 of 2 · r run · n next lesson · l list · q quit",
        ] {
            assert!(t.contains(expected), "{expected:?} missing from:\n{t}");
        }
        assert!(!t.contains('\u{1b}'), "the view is plain text");
    }

    #[test]
    fn a_long_lesson_says_which_part_a_step_is_in() {
        let mut lessons = vec![lesson("07", "Tokens that last", &["a", "b", "c"])];
        lessons[0].parts = vec![
            lab_tests::course::Part {
                title: "First sitting".into(),
                steps: 1,
                minutes: 10,
            },
            lab_tests::course::Part {
                title: "Second sitting".into(),
                steps: 2,
                minutes: 10,
            },
        ];
        let mut s = Screen::new(lessons, vec![Standing::NotStarted], vec![0], 0);
        s.start();
        let mut r = report(0, Status::Failed, 1, Some(TODO));
        r.step = Some(Step {
            number: 2,
            of: 3,
            name: "b".into(),
        });
        s.update(Event::Checked(r));
        let t = text(&s);
        assert!(
            t.contains("Part 2 of 2: Second sitting (about 10 minutes)\nStep 2 of 3: b"),
            "{t}"
        );
    }

    #[test]
    fn a_save_during_a_check_checks_once_more_after_it() {
        let mut s = screen();
        assert_eq!(s.update(Event::Saved), []);
        assert_eq!(s.update(Event::Saved), []);
        let done = Event::Checked(report(0, Status::Failed, 1, Some(TODO)));
        assert_eq!(s.update(done.clone()), [Effect::Check(0)]);
        assert!(text(&s).contains("Checking lesson 02 again…"));
        assert_eq!(s.update(done), []);
        assert_eq!(s.update(Event::Saved), [Effect::Check(0)]);
    }

    #[test]
    fn green_says_so_and_what_the_next_lesson_teaches_then_n_moves_on() {
        let mut s = screen();
        s.update(Event::Checked(report(0, Status::Failed, 3, Some(TODO))));
        assert_eq!(s.update(Event::Key('n')), []);
        assert!(text(&s).contains("n moves on once lesson 02 passes; it does not yet."));
        s.update(Event::Checked(report(0, Status::Passed, 4, None)));
        let t = text(&s);
        assert!(t.contains("✓ Lesson 02 passed: all 4 checks."), "{t}");
        assert!(t.contains(
            "Next, lesson 03: Ask for permission. You will make a state; build the URL. Press n to start it."
        ));
        assert!(t.contains("Course [██████████░░░░░░░░░░] 1 of 2 lessons passed"));
        assert_eq!(
            s.update(Event::Key('n')),
            [Effect::Watch(1), Effect::Check(1)]
        );
        let t = text(&s);
        assert!(t.contains("lesson 03 of 2: Ask for permission"));
        assert!(t.contains("Checking lesson 03…"));
        // The last lesson green: nowhere to go.
        s.update(Event::Checked(report(1, Status::Passed, 4, None)));
        assert!(text(&s).contains("That was the last lesson"));
        assert_eq!(s.update(Event::Key('n')), []);
    }

    #[test]
    fn h_shows_one_more_layer_each_time_and_remembers_it() {
        let mut s = screen();
        s.update(Event::Checked(report(0, Status::NotStarted, 0, Some(TODO))));
        assert_eq!(s.update(Event::Key('h')), [Effect::RememberHints(0, 1)]);
        assert!(text(&s).contains("Hint 1 of 2: a nudge"));
        assert!(text(&s).contains("h hint 2 of 2"));
        assert_eq!(s.update(Event::Key('h')), [Effect::RememberHints(0, 2)]);
        let t = text(&s);
        assert!(t.contains("Hint 2 of 2: nearly the answer") && !t.contains("a nudge"));
        assert_eq!(s.update(Event::Key('h')), []);
        assert!(text(&s).contains(
            "That was the last hint. Then comes the lesson's solution page, book/src/lesson02/solution.md."
        ));
    }

    #[test]
    fn r_runs_the_program_from_lesson_03_and_says_what_to_do_before() {
        let mut s = screen();
        assert_eq!(s.update(Event::Key('r')), []);
        assert!(text(&s).contains(
            "Lesson 02 waits for your browser: run `cargo run -p lesson02` in another terminal"
        ));
        s.update(Event::Checked(report(0, Status::Passed, 4, None)));
        s.update(Event::Key('n'));
        assert_eq!(s.update(Event::Key('r')), [Effect::Run(1)]);
        assert!(text(&s).contains("Running cargo run -p lesson03 -- --simulate-user alice…"));
        assert_eq!(s.update(Event::Key('r')), [], "one run at a time");
        let output: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        s.update(Event::Ran { ok: true, output });
        let t = text(&s);
        assert!(t.contains("cargo run -p lesson03 -- --simulate-user alice finished:"));
        assert!(t.contains("  line 20") && t.contains("  line 9\n") && !t.contains("line 8\n"));
    }

    #[test]
    fn a_result_for_another_lesson_moves_the_bar_only() {
        let mut s = screen();
        s.update(Event::Checked(report(1, Status::Passed, 4, None)));
        let t = text(&s);
        assert!(t.contains("1 of 2 lessons passed") && t.contains("Checking lesson 02…"));
    }

    #[test]
    fn l_lists_the_lessons_any_key_goes_back_and_q_quits() {
        let mut s = screen();
        s.update(Event::Checked(report(0, Status::Failed, 3, Some(TODO))));
        s.update(Event::Key('l'));
        let t = text(&s);
        assert!(t.contains("02  Open the browser    3 of 4 checks"), "{t}");
        assert!(t.contains("03  Ask for permission  not started"));
        assert_eq!(s.update(Event::Key('x')), []);
        assert!(text(&s).contains("Step 1 of 1"));
        s.update(Event::Key('l'));
        assert_eq!(s.update(Event::Key('q')), [Effect::Quit]);
        assert_eq!(screen().update(Event::Key('q')), [Effect::Quit]);
    }

    #[test]
    fn a_lesson_that_does_not_compile_or_cannot_be_checked_says_so() {
        let mut s = screen();
        let mut r = report(
            0,
            Status::DoesNotCompile,
            0,
            Some("error[E0308]: mismatched types at lessons/lesson02/src/lib.rs:3:1"),
        );
        r.grade.first_failure = None;
        s.update(Event::Checked(r));
        let t = text(&s);
        assert!(t.contains("✗ Lesson 02 does not compile:\n  error[E0308]: mismatched types at lessons/lesson02/src/lib.rs:3:1"));
        assert!(t.contains("The compiler's whole message: cargo test -p lesson02"));
        s.update(Event::Saved);
        s.update(Event::CheckFailed("cannot run cargo: not found".into()));
        assert!(text(&s).contains("cannot run cargo: not found"));
        assert_eq!(s.update(Event::Saved), [Effect::Check(0)]);
    }

    #[test]
    fn the_bar_fills_in_proportion() {
        assert_eq!(bar(0, 10, 10), "[░░░░░░░░░░]");
        assert_eq!(bar(3, 10, 10), "[███░░░░░░░]");
        assert_eq!(bar(10, 10, 10), "[██████████]");
        assert_eq!(
            bar(1, 3, 10),
            "[███░░░░░░░]",
            "a lesson counts once it passes"
        );
        assert_eq!(bar(0, 0, 4), "[░░░░]");
    }
}
