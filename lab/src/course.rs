//! Where a student stands: each lesson's checks run once (`cargo test -p
//! lessonNN --test check`, read back by `lab_tests::grade`), the step the
//! lesson is at, and the part of the book to read.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use lab_tests::course::{Lesson, lessons};
use lab_tests::grade::{Grade, Status, grade_package, todo_step};

use crate::state::State;

/// The course being worked on, and how to run its checks.
pub struct Course {
    pub root: PathBuf,
    /// The program run as `cargo`: `LAB_CARGO`, else `$CARGO`, else `cargo`.
    pub cargo: OsString,
    pub lessons: Vec<Lesson>,
}

impl Course {
    /// The course at `LAB_ROOT`, else the checkout this program was built in.
    pub fn from_env() -> Result<Course, String> {
        let root = std::env::var_os("LAB_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(lab_tests::course::root);
        // The file watcher reports absolute paths; compare like with like.
        let root = std::path::absolute(&root).unwrap_or(root);
        let cargo = std::env::var_os("LAB_CARGO")
            .or_else(|| std::env::var_os("CARGO"))
            .unwrap_or_else(|| "cargo".into());
        Course::at(root, cargo)
    }

    /// The course at `root`, its checks run with `cargo`.
    pub fn at(root: PathBuf, cargo: OsString) -> Result<Course, String> {
        let lessons = lessons(&root)?;
        Ok(Course {
            root,
            cargo,
            lessons,
        })
    }

    /// A lesson by its number: `3`, `03` or `lesson03`.
    pub fn find(&self, name: &str) -> Result<usize, String> {
        let digits = name.trim_start_matches("lesson");
        let wanted: Option<u32> = digits.parse().ok();
        self.lessons
            .iter()
            .position(|l| wanted.is_some() && l.id.parse::<u32>().ok() == wanted)
            .ok_or_else(|| {
                let ids: Vec<&str> = self.lessons.iter().map(|l| l.id.as_str()).collect();
                format!(
                    "there is no lesson {name}: the lessons are {} (see cargo lab list)",
                    ids.join(", ")
                )
            })
    }

    /// Runs the lesson's checks once and remembers the result.
    pub fn check(&self, index: usize) -> Result<Report, String> {
        let lesson = &self.lessons[index];
        let grade = grade_package(&self.cargo, &self.root, lesson, false).map_err(|e| {
            format!(
                "cannot run {}: {e}: run cargo lab through cargo, or set LAB_CARGO to cargo's path",
                self.cargo.to_string_lossy()
            )
        })?;
        // Not being able to remember costs only a recheck next time.
        let _ = State::change(&self.root, |s| s.remember(&self.root, lesson, &grade));
        Ok(self.report(index, grade))
    }

    /// What a grade means for the student: the step, and what to read.
    pub fn report(&self, index: usize, grade: Grade) -> Report {
        let lesson = &self.lessons[index];
        let todos_now = lesson.todos_now(&self.root).unwrap_or_default();
        let step = step_of(lesson, &todos_now, &grade);
        let headings = headings(&self.root.join("book/src").join(&lesson.chapter));
        let read = section_to_read(lesson, &headings, &grade);
        Report {
            index,
            grade,
            step,
            read,
        }
    }

    /// How a lesson stands without running anything: untouched is not started
    /// (every lesson as shipped stops at its `todo!()`s, as CI checks), else
    /// the last result if the files have not changed since.
    pub fn known(&self, state: &State, index: usize) -> Standing {
        let lesson = &self.lessons[index];
        if untouched(&self.root, lesson) {
            return Standing::NotStarted;
        }
        match state.fresh(&self.root, lesson) {
            Some(last) => Standing::of(last.status, last.passed, last.total),
            None => Standing::Unchecked,
        }
    }

    /// Every lesson's standing, checking those that are not known yet; with
    /// `until_unfinished`, stops after the first lesson not passed (the rest
    /// stay as known).
    pub fn standings(
        &self,
        until_unfinished: bool,
        mut progress: impl FnMut(&Lesson),
    ) -> Result<Vec<Standing>, String> {
        let state = State::load(&self.root);
        let mut out: Vec<Standing> = (0..self.lessons.len())
            .map(|i| self.known(&state, i))
            .collect();
        for (i, standing) in out.iter_mut().enumerate() {
            if *standing == Standing::Unchecked {
                progress(&self.lessons[i]);
                let g = self.check(i)?.grade;
                *standing = Standing::of(g.status, g.passed, g.total);
            }
            if until_unfinished && *standing != Standing::Passed {
                break;
            }
        }
        Ok(out)
    }
}

/// The lesson still has every `todo!()` it was shipped with.
pub fn untouched(root: &Path, lesson: &Lesson) -> bool {
    lesson
        .todos_now(root)
        .is_ok_and(|now| now == lesson.shipped_todos())
}

/// A lesson's standing, as `cargo lab list` and the progress bar show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Passed,
    /// Started: this many of that many checks pass.
    Checks(usize, usize),
    DoesNotCompile,
    /// Its checks ran past the time limit and were stopped.
    TimedOut,
    NotStarted,
    /// Changed since it was last checked.
    Unchecked,
}

impl Standing {
    pub fn of(status: Status, passed: usize, total: usize) -> Standing {
        match status {
            Status::Passed => Standing::Passed,
            Status::Failed => Standing::Checks(passed, total),
            Status::NotStarted => Standing::NotStarted,
            Status::DoesNotCompile => Standing::DoesNotCompile,
            Status::TimedOut => Standing::TimedOut,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Standing::Passed => "passed".into(),
            Standing::Checks(passed, total) => format!("{passed} of {total} checks"),
            Standing::DoesNotCompile => "does not compile".into(),
            Standing::TimedOut => "timed out".into(),
            Standing::NotStarted => "not started".into(),
            Standing::Unchecked => "changed, not checked yet".into(),
        }
    }
}

/// One run of a lesson's checks, with what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Which lesson, in course order.
    pub index: usize,
    pub grade: Grade,
    pub step: Option<Step>,
    /// The chapter, and the section of it that helps now.
    pub read: String,
}

/// The step a lesson is at: `number` of `of`, as lessons.toml names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub number: usize,
    pub of: usize,
    pub name: String,
}

/// The step to work on: the one the first failing check stopped at, if it
/// stopped at a `todo!()`, else the first `todo!()` still in the student's
/// file (the file's order is the steps' order). None when every step is written.
pub fn step_of(lesson: &Lesson, todos_now: &[String], grade: &Grade) -> Option<Step> {
    if grade.status == Status::Passed {
        return None;
    }
    let from_file = || {
        let first = todos_now.first()?;
        let number = first.strip_prefix("Step ")?.split(':').next()?;
        number.trim().parse().ok()
    };
    let number: usize = grade
        .message
        .as_deref()
        .and_then(todo_step)
        .or_else(from_file)?;
    let name = lesson.steps.get(number.checked_sub(1)?)?.clone();
    Some(Step {
        number,
        of: lesson.steps.len(),
        name,
    })
}

/// The `## ` headings of a chapter (none if it cannot be read).
pub fn headings(chapter: &Path) -> Vec<String> {
    std::fs::read_to_string(chapter)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|h| h.trim().to_string())
        .collect()
}

/// Where to read: the chapter's "What to write" for a step not written yet or
/// code that does not compile, its "What can go wrong" for a check failing on
/// something written; the chapter alone when it has no such section.
pub fn section_to_read(lesson: &Lesson, headings: &[String], grade: &Grade) -> String {
    let chapter = format!("book/src/{}", lesson.chapter);
    let at_a_todo = grade.message.as_deref().and_then(todo_step).is_some();
    let wanted: &[&str] = match grade.status {
        Status::Passed => &[],
        Status::Failed if !at_a_todo => &["What can go wrong", "How to check", "What to write"],
        _ => &["What to write"],
    };
    match wanted.iter().find(|w| headings.iter().any(|h| h == *w)) {
        Some(section) => format!("{chapter}, section \"{section}\""),
        None => chapter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn lesson() -> Lesson {
        Lesson {
            id: "03".into(),
            package: "lesson03".into(),
            solution: "solution03".into(),
            files: vec!["src/lib.rs".into()],
            title: "Ask for permission".into(),
            minutes: 30,
            points: None,
            check_points: Default::default(),
            chapter: "lesson03/index.md".into(),
            steps: vec!["make a state".into(), "build the URL".into(), "wait".into()],
            hints: vec!["nudge".into(), "nearer".into()],
            parts: vec![],
        }
    }

    fn grade(status: Status, message: Option<&str>) -> Grade {
        Grade {
            id: "03".into(),
            package: "lesson03".into(),
            title: "Ask for permission".into(),
            status,
            passed: 1,
            total: 3,
            first_failure: message.map(|_| "a_check".into()),
            message: message.map(String::from),
            points: 0.0,
            max_points: 10,
        }
    }

    #[test]
    fn the_step_is_where_the_first_failure_stopped_else_the_first_todo_left() {
        let l = lesson();
        let todo = "not yet implemented: Step 2: build the URL — see chapter 3";
        let now = l.shipped_todos()[1..].to_vec();
        let at = step_of(&l, &now, &grade(Status::Failed, Some(todo))).unwrap();
        assert_eq!(
            (at.number, at.of, at.name.as_str()),
            (2, 3, "build the URL")
        );
        // A wrong answer in step 1 with steps 2 and 3 still to write: step 2 is next.
        let wrong = grade(Status::Failed, Some("the state must be 43 characters"));
        assert_eq!(step_of(&l, &now, &wrong).unwrap().number, 2);
        // Every step written, a check failing: no step, the check says what is wrong.
        assert_eq!(step_of(&l, &[], &wrong), None);
        assert_eq!(step_of(&l, &now, &grade(Status::Passed, None)), None);
    }

    #[test]
    fn the_section_fits_the_failure() {
        let l = lesson();
        let h: Vec<String> = ["Goal", "What can go wrong", "What to write"]
            .map(String::from)
            .to_vec();
        let todo = grade(Status::NotStarted, Some("not yet implemented: Step 1: x"));
        assert_eq!(
            section_to_read(&l, &h, &todo),
            "book/src/lesson03/index.md, section \"What to write\""
        );
        let wrong = grade(Status::Failed, Some("the state must be 43 characters"));
        assert_eq!(
            section_to_read(&l, &h, &wrong),
            "book/src/lesson03/index.md, section \"What can go wrong\""
        );
        assert_eq!(
            section_to_read(&l, &[], &wrong),
            "book/src/lesson03/index.md"
        );
    }

    #[test]
    fn a_lesson_is_found_by_its_number_however_written() {
        let course = Course {
            root: PathBuf::new(),
            cargo: "cargo".into(),
            lessons: vec![lesson()],
        };
        for name in ["3", "03", "lesson03"] {
            assert_eq!(course.find(name), Ok(0));
        }
        assert!(
            course
                .find("04")
                .unwrap_err()
                .contains("the lessons are 03")
        );
        assert!(course.find("x").is_err());
    }
}
