//! `cargo lab reset NN`: the student's file back as shipped, after keeping a
//! copy of the current one in `.lab/backup/`.
//!
//! "As shipped" comes from git history, not from the working tree (which is
//! what the student changed): the newest commit whose version of
//! `lessons/lessonNN/src/lib.rs` has exactly the `todo!()`s lessons.toml lists
//! for the lesson, each with its `// TODO:`. A student's own commits of
//! half-written work do not match, so they are skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use lab_tests::course::{Lesson, todo_messages};

/// How far back to look: a course's history of one file is short.
const COMMITS_LOOKED_AT: &str = "200";

/// What a reset did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reset {
    /// The file is already as shipped: nothing to do.
    AlreadyShipped,
    /// Restored from `commit`; the student's version is kept at `backup`
    /// (none when the file was missing).
    Restored {
        commit: String,
        backup: Option<PathBuf>,
    },
}

/// `lessons/lessonNN/src/lib.rs`, relative to the course's root.
pub fn student_file(lesson: &Lesson) -> String {
    format!("lessons/{}/src/lib.rs", lesson.package)
}

/// A version of the student's file is the shipped one.
pub fn is_shipped(lesson: &Lesson, source: &str) -> bool {
    todo_messages(source) == lesson.shipped_todos()
        && source.matches("// TODO: ").count() == lesson.steps.len()
}

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git ({e})"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "git {} failed: {}",
            args[0],
            why.lines().next().unwrap_or("")
        ));
    }
    Ok(out.stdout)
}

/// The newest commit holding the file as shipped, and that version.
pub fn shipped_version(root: &Path, lesson: &Lesson) -> Result<(String, String), String> {
    let path = student_file(lesson);
    let not_found = |why: String| {
        format!(
            "cannot find {path} as shipped in git history ({why}): copy that file from a fresh copy of the course (your file is unchanged)"
        )
    };
    let log = git(
        root,
        &["log", "-n", COMMITS_LOOKED_AT, "--format=%H", "--", &path],
    )
    .map_err(not_found)?;
    let log = String::from_utf8_lossy(&log);
    for commit in log.lines().map(str::trim).filter(|c| !c.is_empty()) {
        // `./` makes the path relative to the course's root, wherever git's top is.
        let Ok(source) = git(root, &["show", &format!("{commit}:./{path}")]) else {
            continue;
        };
        let source = String::from_utf8_lossy(&source).into_owned();
        if is_shipped(lesson, &source) {
            return Ok((commit.to_string(), source));
        }
    }
    Err(not_found(format!(
        "no commit has it with the todo!()s lessons/lessons.toml lists for lesson {}",
        lesson.id
    )))
}

/// Restores the student's file as shipped; keeps the current one first in
/// `.lab/backup/lessonNN-lib.rs.<seconds since 1970>`.
pub fn reset(root: &Path, lesson: &Lesson, now_secs: u64) -> Result<Reset, String> {
    let (commit, shipped) = shipped_version(root, lesson)?;
    let file = root.join(student_file(lesson));
    let current = std::fs::read(&file).ok();
    if current.as_deref() == Some(shipped.as_bytes()) {
        return Ok(Reset::AlreadyShipped);
    }
    let backups = crate::state::dir(root).join("backup");
    let mut kept = None;
    if let Some(current) = &current {
        let mut backup = backups.join(format!("{}-lib.rs.{now_secs}", lesson.package));
        std::fs::create_dir_all(&backups).map_err(|e| {
            format!(
                "cannot create {}: {e}; nothing was reset",
                backups.display()
            )
        })?;
        let mut n = 1;
        while backup.exists() {
            backup = backups.join(format!("{}-lib.rs.{now_secs}-{n}", lesson.package));
            n += 1;
        }
        std::fs::write(&backup, current).map_err(|e| {
            format!(
                "cannot keep a copy at {}: {e}; nothing was reset",
                backup.display()
            )
        })?;
        kept = Some(backup);
    }
    std::fs::write(&file, shipped).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(Reset::Restored {
        commit,
        backup: kept,
    })
}
