//! RFC 9207 §2.4 and RFC 9700 §4.4 (mix-up), on the programs people run:
//! with the provider started normally, a browser (`$BROWSER`, here
//! `tests/src/bin/mix-up-browser.rs`) first brings the program an answer
//! with its own `state`, a forged code and `iss=http://attacker.example`,
//! then the real one. Every client program from lesson 03 on must stop at the
//! first with the mix-up error, and no token request may carry the forged code.
//!
//! Lesson 09 has no browser flow (the device grant, RFC 8628): no callback,
//! no `iss` to check, so it is not run here.
//!
//! The programs are the solutions' binaries beside this test's own (`cargo
//! test` and `cargo build --workspace` build them). When one is missing or
//! older than its sources the check is skipped with a note, or fails when
//! `CI` or `LAB_CHECK_SHIPPED` is set, as in `.ci/run`.
//!
//! Hermetic: each program is told where its provider is (`LAB_MOCK_URL`, a
//! provider started here on a free port) and listens on a free port.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use lab_tests::lesson03::{ATTACKER_ISS, FORGED_CODE};
use labkit::flow::LOCAL_MOCK_VAR;
use mock_provider::{Config, MockProvider};

const BROWSER: &str = env!("CARGO_BIN_EXE_mix-up-browser");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            newest_source(&path)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH)
        };
        newest = newest.max(time);
    }
    newest
}

/// The solution's program, built from its current sources; `None` (with a
/// note) when it is missing or stale and the run is not strict.
fn program(solution: &str) -> Option<PathBuf> {
    let bin_dir = std::env::current_exe()
        .expect("the test knows where it is")
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps")
        .to_path_buf();
    let bin = bin_dir.join(format!("{solution}{}", std::env::consts::EXE_SUFFIX));
    let lesson = solution.replace("solution", "lesson");
    let sources = [
        root().join("solutions").join(&lesson).join("src"),
        root().join("labkit/src"),
    ];
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let problem = match built {
        None => format!("{} is not built", bin.display()),
        Some(built) if sources.iter().any(|dir| newest_source(dir) > built) => {
            format!("{} is older than its sources", bin.display())
        }
        Some(_) => return Some(bin),
    };
    let strict = ["CI", "LAB_CHECK_SHIPPED"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    assert!(
        !strict,
        "{problem}: run `cargo build -p {solution}` (or `cargo build --workspace`) first"
    );
    eprintln!(
        "skipped: {problem}; `cargo build -p {solution}` and run again (CI builds the workspace first)"
    );
    None
}

/// Runs a solution's program with the mix-up browser against a fresh
/// provider, and checks that it stopped with the mix-up error before any token request.
fn stops_at_the_mix_up(solution: &str, extra_args: &[&str]) {
    let Some(bin) = program(solution) else { return };
    let provider = MockProvider::start(Config::default()).expect("the mock provider starts");
    let dir = std::env::temp_dir().join(format!("mix-up-{solution}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(&bin);
    command
        .args(["--port", "0", "--timeout", "20s"])
        .env(LOCAL_MOCK_VAR, provider.base_url())
        .env("BROWSER", BROWSER)
        .env_remove("OAUTH_CLIENT_SECRET")
        .env_remove("OAUTH_CLIENT_ID");
    for arg in extra_args {
        command.arg(arg.replace("{dir}", &dir.display().to_string()));
    }
    let run = command.output().expect("the program starts");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let shown = format!("{solution}: exit {:?}\n{stdout}\n{stderr}", run.status);
    // The provider saw the authorization (or not yet) but no token request:
    // neither the forged code nor any other went to its token endpoint.
    let token_requests: Vec<_> = provider
        .events()
        .into_iter()
        .filter(|e| e.request.contains("/token"))
        .map(|e| format!("{} {:?} -> {}", e.request, e.params, e.status))
        .collect();
    assert!(
        token_requests.is_empty(),
        "no token request may follow a mix-up (RFC 9207 §2.4), got {token_requests:?}\n{shown}"
    );
    assert_eq!(
        run.status.code(),
        Some(1),
        "the program must stop with an error at the forged answer: {shown}"
    );
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("one `error:` line: {shown}"));
    assert!(
        error.starts_with("error: mix-up: ") && error.contains(ATTACKER_ISS),
        "the error says it is a mix-up and names the foreign iss: {shown}"
    );
    assert!(
        !stdout.contains(FORGED_CODE) && !stderr.contains(FORGED_CODE),
        "the forged code is not printed whole either: {shown}"
    );
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution03_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution03", &[]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution04_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution04", &[]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution05_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution05", &["--out", "{dir}/posts.jsonl"]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution06_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution06", &[]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution07_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution07", &["--cache", "{dir}"]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution08_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution08", &[]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution10_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution10", &["--cache", "{dir}"]);
}

#[test]
#[cfg_attr(
    any(windows, target_os = "macos"),
    ignore = "webbrowser reads $BROWSER on Linux and the BSDs only"
)]
fn rfc9207_solution11_stops_at_the_mix_up() {
    stops_at_the_mix_up("solution11", &["--out", "{dir}/posts.jsonl"]);
}

/// The later lessons take lesson 03's callback code as given (`src/earlier.rs`,
/// in the lesson and its solution): every copy is the reference answer's, so
/// none keeps an older version without the `iss` check.
#[test]
fn every_copy_of_the_callback_code_is_lesson_03_s() {
    let function = |path: &Path| {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let start = text
            .find("pub fn wait_for_callback(")
            .unwrap_or_else(|| panic!("{} has no wait_for_callback", path.display()));
        let end = start + text[start..].find("\n}\n").expect("the function ends") + 3;
        text[start..end].to_string()
    };
    let reference = function(&root().join("solutions/lesson03/src/lib.rs"));
    let mut copies = 0;
    for tree in ["lessons", "solutions"] {
        for entry in std::fs::read_dir(root().join(tree)).unwrap().flatten() {
            let earlier = entry.path().join("src/earlier.rs");
            let has_it = std::fs::read_to_string(&earlier)
                .is_ok_and(|t| t.contains("pub fn wait_for_callback("));
            if !has_it {
                continue;
            }
            copies += 1;
            assert!(
                function(&earlier) == reference,
                "{}: wait_for_callback must be solutions/lesson03/src/lib.rs's, word for word (it checks iss, RFC 9207 §2.4)",
                earlier.display()
            );
        }
    }
    assert!(
        copies >= 14,
        "lessons 04–08, 10 and 11 each carry a copy, in the lesson and its solution: found {copies}"
    );
}
