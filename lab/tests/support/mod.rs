//! A scratch course for the tests: two lessons (02 with one step, 03 with
//! two), their chapters, and a stand-in for cargo. The real checks cannot run
//! here (a cargo inside `cargo test` waits for the build lock the outer one
//! holds), so `fake-cargo` prints what libtest would, from the student's file:
//! a `todo!()` left, every check stops at the first one; the word WRONG, the
//! second check fails for a reason of its own; `does not compile`, a compiler
//! error; otherwise every check passes.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const LESSONS_TOML: &str = r#"
[[lesson]]
id = "02"
package = "lesson02"
solution = "solution02"
title = "Open the browser"
minutes = 15
chapter = "lesson02/index.md"
steps = ["listen, then open the browser"]
hints = ["Listen first.", "labkit::listen(port)?"]

[[lesson]]
id = "03"
package = "lesson03"
solution = "solution03"
title = "Ask for permission"
minutes = 30
chapter = "lesson03/index.md"
steps = ["make a fresh state", "build the authorization URL"]
hints = ["Five parameters.", "url::Url does the encoding.", "query_pairs_mut()"]
"#;

const FAKE_CARGO: &str = r#"#!/bin/sh
# cargo run -p PACKAGE …: the lesson program.
if [ "$1" = run ]; then echo "the $4 program ran with: $*"; exit 0; fi
lib="lessons/$3/src/lib.rs"
if grep -q 'does not compile' "$lib"; then
  printf 'error[E0308]: mismatched types\n  --> %s:2:5\n' "$lib" >&2; exit 101
fi
case "$*" in *--list*) printf 'makes_a_state: test\nbuilds_the_url: test\n'; exit 0 ;; esac
todo=$(grep -o 'todo!("[^"]*' "$lib" | head -n 1 | cut -c 8-)
fails() {
  printf -- "---- %s stdout ----\n\nthread '%s' panicked at %s:2:5:\n%s\nnote: run with \`RUST_BACKTRACE=1\`\n\n" "$1" "$1" "$lib" "$2"
}
printf '\nrunning 2 tests\n'
if [ -n "$todo" ]; then
  printf 'test makes_a_state ... FAILED\ntest builds_the_url ... FAILED\n\nfailures:\n\n'
  fails makes_a_state "not yet implemented: $todo"
  fails builds_the_url "not yet implemented: $todo"
  exit 101
elif grep -q WRONG "$lib"; then
  printf 'test makes_a_state ... ok\ntest builds_the_url ... FAILED\n\nfailures:\n\n'
  fails builds_the_url "the URL has no state parameter"
  exit 101
fi
printf 'test makes_a_state ... ok\ntest builds_the_url ... ok\n\ntest result: ok. 2 passed\n'
"#;

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

/// The student's file as shipped: one `// TODO:` and `todo!()` per step.
pub fn shipped(id: &str, steps: &[&str]) -> String {
    let chapter = id.trim_start_matches('0');
    let mut source = String::from("//! The student's file.\n");
    for (i, step) in steps.iter().enumerate() {
        source.push_str(&format!(
            "\npub fn step{n}() {{\n    // TODO: write step {n}.\n    todo!(\"Step {n}: {step} — see chapter {chapter} (book/src/lesson{id}/index.md)\")\n}}\n",
            n = i + 1
        ));
    }
    source
}

pub const LESSON02_STEPS: &[&str] = &["listen, then open the browser"];
pub const LESSON03_STEPS: &[&str] = &["make a fresh state", "build the authorization URL"];

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let s = Scratch { dir };
        s.write("lessons/lessons.toml", LESSONS_TOML);
        s.write(
            "lessons/lesson02/src/lib.rs",
            &shipped("02", LESSON02_STEPS),
        );
        s.write(
            "lessons/lesson03/src/lib.rs",
            &shipped("03", LESSON03_STEPS),
        );
        for id in ["02", "03"] {
            s.write(
                &format!("book/src/lesson{id}/index.md"),
                "# A lesson\n\n## What can go wrong\n\n## What to write\n",
            );
        }
        s.write("fake-cargo", FAKE_CARGO);
        make_executable(&s.path("fake-cargo"));
        s
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    /// Runs `cargo lab ARGS` on this course, in a pipe.
    pub fn lab(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lab"))
            .args(args)
            .env("LAB_ROOT", self.root())
            .env("LAB_CARGO", self.path("fake-cargo"))
            .output()
            .unwrap()
    }

    /// `git ARGS` in the course, failing the test if git fails.
    pub fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .current_dir(self.root())
            .args([
                "-c",
                "user.name=Lab",
                "-c",
                "user.email=lab@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
