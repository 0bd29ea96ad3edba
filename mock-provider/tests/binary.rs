//! `cargo run -p mock-provider`: what a person sees (the mock provider appendix, "Flags").

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mock-provider");

#[test]
fn a_taken_port_is_a_one_line_error_naming_the_fix() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(BIN).args(["--port", &port]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is in use")) && stderr.contains("--port 0"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_are_refused_with_the_reason() {
    let out = Command::new(BIN)
        .args(["--rate-limit", "fast"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("N/s"));
    let out = Command::new(BIN)
        .args(["--port", "0", "--auto-approve", "mallory"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
    // --rotate-keys takes a period above zero (a key a moment would verify nothing).
    let out = Command::new(BIN)
        .args(["--port", "0", "--rotate-keys", "0s"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("above zero"));
    // --allow-host takes a name alone (RFC 9110 §7.2 compares the Host's name).
    let out = Command::new(BIN)
        .args([
            "--port",
            "0",
            "--allow-host",
            "http://lab.school.example:80",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("without scheme or port"));
}

/// Kills the child when the test ends, pass or fail.
struct Running(std::process::Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn prints_address_clients_users_and_a_trace_line_per_step() {
    let dir = std::env::temp_dir().join(format!("mock-provider-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let extra = dir.join("class.toml");
    std::fs::write(
        &extra,
        "[[client]]\nid = \"class-app\"\nname = \"Class App\"\nsecret = \"class-app-very-secret\"\nredirect_uris = [\"http://127.0.0.1/callback\"]\n\n\
         [[user]]\nusername = \"carol\"\npassword = \"carol-pass\"\nname = \"Carol\"\nemail = \"carol@example.test\"\nposts = 3\n",
    )
    .unwrap();
    let child = Command::new(BIN)
        .args(["--port", "0", "--auto-approve", "carol", "--config"])
        .arg(&extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut lines = BufReader::new(running.0.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap());
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let done = line.starts_with("Trace");
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("the address is printed")
        .to_string();
    for needle in [
        "lab-client",
        "lab-public",
        "class-app",
        "alice",
        "bob",
        "carol",
        "wonderland",
        "/_lab/events",
    ] {
        assert!(banner.contains(needle), "banner lacks {needle}:\n{banner}");
    }
    assert!(
        !banner.contains("class-app-very-secret") && !banner.contains("lab-secret"),
        "a configured client's secret is shortened:\n{banner}"
    );

    let answer = common::get(
        &format!(
            "{base}/authorize?response_type=code&client_id=class-app&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback"
        ),
        None,
    );
    let code = answer
        .location_param("code")
        .expect("auto-approved as carol");
    let token = common::post_form(
        &format!("{base}/token"),
        Some(("class-app", "class-app-very-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
        ],
    );
    assert_eq!(token.status, 200, "{}", token.body);
    let first = lines.next().unwrap();
    let second = lines.next().unwrap();
    assert!(
        first.contains("GET /authorize") && first.contains("carol approved"),
        "{first}"
    );
    assert!(
        second.contains("class-app → POST /token") && second.contains("⇒ 200"),
        "{second}"
    );
    assert!(!second.contains(&code), "the code is shortened: {second}");
    std::fs::remove_dir_all(&dir).ok();
}
