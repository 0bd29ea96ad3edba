//! What `cargo lab` remembers between runs, in `.lab/state.json` at the
//! course's root (ignored by git): how many hint layers each lesson has shown,
//! and each lesson's last result with a fingerprint of its files, so a lesson
//! nobody has touched since is not checked again. Deleting the folder only
//! forgets; nothing in it is needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lab_tests::course::Lesson;
use lab_tests::grade::{Grade, Status};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// By lesson id.
    #[serde(default)]
    pub lessons: BTreeMap<String, Memory>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Memory {
    #[serde(default)]
    pub hints_shown: usize,
    #[serde(default)]
    pub last: Option<LastCheck>,
}

/// A lesson's last result and the files it was for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCheck {
    pub status: Status,
    pub passed: usize,
    pub total: usize,
    pub fingerprint: u64,
}

/// `.lab/` at the course's root.
pub fn dir(root: &Path) -> PathBuf {
    root.join(".lab")
}

fn file(root: &Path) -> PathBuf {
    dir(root).join("state.json")
}

impl State {
    /// The remembered state; a missing or unreadable file is a fresh start.
    pub fn load(root: &Path) -> State {
        std::fs::read_to_string(file(root))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, root: &Path) -> Result<(), String> {
        let dir = dir(root);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let text = serde_json::to_string_pretty(self).expect("the state serializes");
        // Written whole, then renamed: a crash never leaves half a file.
        let partial = dir.join("state.json.partial");
        std::fs::write(&partial, text + "\n")
            .and_then(|()| std::fs::rename(&partial, file(root)))
            .map_err(|e| format!("cannot write {}: {e}", file(root).display()))
    }

    /// Loads, changes and saves the state; one change at a time in this
    /// process (the watch screen's checks finish on other threads).
    pub fn change(root: &Path, change: impl FnOnce(&mut State)) -> Result<(), String> {
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut state = State::load(root);
        change(&mut state);
        state.save(root)
    }

    pub fn memory(&mut self, lesson: &Lesson) -> &mut Memory {
        self.lessons.entry(lesson.id.clone()).or_default()
    }

    pub fn hints_shown(&self, lesson: &Lesson) -> usize {
        self.lessons.get(&lesson.id).map_or(0, |m| m.hints_shown)
    }

    pub fn remember(&mut self, root: &Path, lesson: &Lesson, grade: &Grade) {
        self.memory(lesson).last = Some(LastCheck {
            status: grade.status,
            passed: grade.passed,
            total: grade.total,
            fingerprint: fingerprint(root, lesson),
        });
    }

    /// The last result, if the lesson's files are still those it was for.
    pub fn fresh(&self, root: &Path, lesson: &Lesson) -> Option<&LastCheck> {
        let last = self.lessons.get(&lesson.id)?.last.as_ref()?;
        (last.fingerprint == fingerprint(root, lesson)).then_some(last)
    }
}

/// A hash of the names and contents of the lesson's `src/` files (FNV-1a: the
/// same on every machine and Rust version, so the cache survives an update).
pub fn fingerprint(root: &Path, lesson: &Lesson) -> u64 {
    let mut files = Vec::new();
    collect(&lesson.dir(root).join("src"), &mut files);
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for path in files {
        eat(path.to_string_lossy().as_bytes());
        eat(&std::fs::read(&path).unwrap_or_default());
    }
    hash
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}
