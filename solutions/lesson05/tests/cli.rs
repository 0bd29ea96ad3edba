//! The finished client as a person runs it: `cargo run -p solution05 -- --simulate-user alice`.
//!
//! Hermetic: every run is told where its mock provider is (`LAB_MOCK_URL`), so
//! whatever answers on 127.0.0.1:9000 (a student's own provider) changes nothing.

use std::process::Command;

use labkit::flow::LOCAL_MOCK_VAR;
use mock_provider::{Config, MockProvider};

const BIN: &str = env!("CARGO_BIN_EXE_solution05");

/// The program, told to start its own mock provider rather than look on port 9000.
fn program() -> Command {
    let mut command = Command::new(BIN);
    command.env(LOCAL_MOCK_VAR, "none");
    command
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("solution05-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// No whole secret in what a person sees: every `lab_…_` value is shortened with `…`.
fn assert_no_whole_secret(text: &str) {
    for prefix in ["lab_code_", "lab_at_", "lab_rt_"] {
        for (i, _) in text.match_indices(prefix) {
            let rest = &text[i + prefix.len()..];
            let shown: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            assert!(
                shown.len() <= 4 && rest[shown.len()..].starts_with('…'),
                "a whole secret is printed: {prefix}{rest:.60}"
            );
        }
    }
    assert!(!text.contains("lab-secret"), "the client secret is printed");
}

#[test]
fn collects_every_post_with_a_simulated_user() {
    let dir = temp_dir("ok");
    let out = dir.join("posts.jsonl");
    let run = program()
        .args(["--simulate-user", "alice", "--port", "0", "--out"])
        .arg(&out)
        .env_remove("OAUTH_CLIENT_SECRET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        run.status
    );
    let lines = std::fs::read_to_string(&out).unwrap();
    assert_eq!(lines.lines().count(), 137, "alice's 137 posts");
    for step in 1..=6 {
        assert!(
            stdout.contains(&format!("[{step}/6]")),
            "step {step} is printed:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("simulate-user"),
        "it says a simulated user approves:\n{stdout}"
    );
    assert!(
        stdout.contains("started inside this program"),
        "it says where its provider is:\n{stdout}"
    );
    assert!(stdout.contains("Saved 137 posts"), "{stdout}");
    assert!(
        !dir.join("posts.jsonl.partial").exists(),
        "no partial file is left"
    );
    assert_no_whole_secret(&stdout);
    assert_no_whole_secret(&stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unknown_user_and_timeout_are_one_line_errors_with_the_fix() {
    let run = program()
        .args(["--simulate-user", "mallory", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("alice or bob"), "{stderr}");

    // Nobody comes back: `true` stands in for a browser that opens and shows nothing.
    let dir = temp_dir("timeout");
    let run = program()
        .args(["--port", "0", "--timeout", "300ms", "--out"])
        .arg(dir.join("posts.jsonl"))
        .env("BROWSER", "true")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.starts_with("error: nobody came back from the browser in time"),
        "{stderr}"
    );
    assert!(!dir.join("posts.jsonl").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_taken_port_names_the_fix() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let run = program()
        .args(["--simulate-user", "alice", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("port {port} is in use")) && stderr.contains("--port 0"),
        "{stderr}"
    );
}

#[test]
fn uses_a_running_mock_provider_it_finds() {
    let provider = MockProvider::start(Config::default()).expect("the mock provider starts");
    let dir = temp_dir("found");
    let out = dir.join("posts.jsonl");
    let run = program()
        .env(LOCAL_MOCK_VAR, provider.base_url())
        .args(["--simulate-user", "bob", "--port", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "exit {:?}\n{stdout}", run.status);
    assert!(
        stdout.contains(&format!(
            "Using the mock provider at {}",
            provider.base_url()
        )),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        12,
        "bob's 12 posts"
    );
    assert!(
        provider
            .events()
            .iter()
            .any(|e| e.request.starts_with("POST /token")),
        "the code was traded at the provider it found"
    );
    std::fs::remove_dir_all(&dir).ok();
}
