//! Class mode (the instructor guide, "Class mode"): `class-init`, the demo
//! users switched off, the inspector naming each flow's student and lesson,
//! `--events-file`, and `--listen` with `--public-url`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use mock_provider::{Class, Config, MockProvider, OwnerError, ResourceOwner};

const BIN: &str = env!("CARGO_BIN_EXE_mock-provider");

/// A fresh folder of this test process, removed when dropped.
struct TempDir(PathBuf);
impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mock-provider-class-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `class-init --students N --out DIR` and returns its stdout.
fn class_init(dir: &Path, students: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["class-init", "--students", students, "--out"])
        .arg(dir)
        .output()
        .unwrap()
}

/// The config `class-init` wrote, read as the provider reads `--config`.
fn class_config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.add_from_file(&dir.join("class.toml")).unwrap();
    config
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Guards class-init: one user and two clients per student, distinct strong
/// passwords, files readable by their owner only, each handout with its own
/// student's password and nobody else's, no password on the terminal.
#[test]
fn class_init_writes_a_private_config_and_one_handout_per_student() {
    let tmp = TempDir::new();
    let out = class_init(&tmp.0, "4");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let config = class_config(&tmp.0);
    let students: Vec<_> = config.users.iter().filter(|u| !u.is_demo()).collect();
    assert_eq!(students.len(), 4);
    assert_eq!(
        students
            .iter()
            .map(|u| u.username.as_str())
            .collect::<Vec<_>>(),
        ["student01", "student02", "student03", "student04"]
    );
    let class = config.class.as_ref().expect("a [class] table");
    assert_eq!(class.student.len(), 4);
    for s in &class.student {
        assert_eq!(s.clients.len(), 2, "{s:?}");
        for id in &s.clients {
            let client = config.clients.iter().find(|c| &c.id == id).unwrap();
            // The course's programs: lab-client's secret for lessons 03–05 and 08, PKCE after.
            if id.ends_with("-public") {
                assert!(client.is_public());
            } else {
                assert_eq!(client.secret.as_deref(), Some("lab-secret"));
            }
        }
        assert_eq!(
            class.student_of_client(&s.clients[0]),
            Some(s.username.as_str())
        );
    }
    let mut passwords: Vec<&str> = students.iter().map(|u| u.password.as_str()).collect();
    for p in &passwords {
        let letters = p.chars().filter(|c| c.is_ascii_alphanumeric()).count();
        assert!(letters >= 16, "a weak password: {} letters", letters);
        assert!(!stdout.contains(p), "a password on the terminal: {stdout}");
    }
    passwords.sort();
    passwords.dedup();
    assert_eq!(passwords.len(), 4, "passwords repeat");
    #[cfg(unix)]
    assert_eq!(mode(&tmp.0.join("class.toml")), 0o600);
    #[cfg(unix)]
    assert_eq!(mode(&tmp.0.join("handouts")), 0o700);
    for (i, student) in students.iter().enumerate() {
        let path = tmp
            .0
            .join("handouts")
            .join(format!("{}.html", student.username));
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        let page = std::fs::read_to_string(&path).unwrap();
        assert!(page.contains(&student.password) && page.contains(&student.username));
        assert!(page.contains(&format!("{}-app", student.username)));
        assert!(page.contains("LAB_MOCK_URL") && page.contains("ssh -N -L 9000:127.0.0.1:9000"));
        for (j, other) in students.iter().enumerate() {
            if i != j {
                assert!(
                    !page.contains(&other.password),
                    "{} holds {}'s password",
                    student.username,
                    other.username
                );
            }
        }
    }
    // A class's passwords are never overwritten by a second run.
    let again = class_init(&tmp.0, "4");
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("already exists") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert_eq!(class_config(&tmp.0).users.len(), config.users.len());
}

/// A class of two written by class-init, started in class mode.
fn class_provider(tmp: &TempDir, extra: impl FnOnce(&mut Config)) -> MockProvider {
    assert!(class_init(&tmp.0, "2").status.success());
    let mut config = class_config(&tmp.0);
    extra(&mut config);
    MockProvider::start(config).unwrap()
}

/// Guards class mode: alice and bob, whose passwords every student knows,
/// cannot log in, so every flow belongs to a student; the students can.
#[test]
fn class_mode_refuses_the_demo_users() {
    let tmp = TempDir::new();
    let provider = class_provider(&tmp, |_| {});
    let url = authorize_url(provider.base_url(), "student01-app", &[]);
    for (name, password) in [("alice", "wonderland"), ("bob", "builder")] {
        match ResourceOwner::new(name, password).approve(&url) {
            // The login page again, pointing at no list of demo users.
            Err(OwnerError::NoRedirect { message, .. }) => {
                assert_eq!(message, "Wrong username or password.", "{name}")
            }
            other => panic!("{name} logged in: {other:?}"),
        }
    }
    let redirect = provider.resource_owner("student01").approve(&url).unwrap();
    assert!(redirect.param("code").is_some());
    // --class alone (no [class] table) switches them off too.
    let plain = MockProvider::start(Config {
        class: Some(Class::default()),
        ..Config::default()
    })
    .unwrap();
    let url = authorize_url(plain.base_url(), "lab-client", &[]);
    assert!(
        ResourceOwner::new("alice", "wonderland")
            .approve(&url)
            .is_err()
    );
    // And --auto-approve cannot name them.
    let auto = MockProvider::start(Config {
        class: Some(Class::default()),
        auto_approve: Some("alice".into()),
        ..Config::default()
    });
    assert!(auto.is_err());
}

/// Guards class mode: no password on the login page, the start page or the
/// inspector, neither the demo users' nor the students'.
#[test]
fn class_mode_shows_no_password() {
    let tmp = TempDir::new();
    let provider = class_provider(&tmp, |_| {});
    let config = class_config(&tmp.0);
    let secrets: Vec<String> = config.users.iter().map(|u| u.password.clone()).collect();
    assert!(secrets.contains(&"wonderland".to_string()));
    let base = provider.base_url();
    let login = get(&authorize_url(base, "student01-app", &[]), None);
    assert_eq!(login.status, 200);
    assert!(
        login
            .body
            .contains("the username and password you were given"),
        "{}",
        login.body
    );
    // A wrong login, which the trace records, then a good one.
    let url = authorize_url(
        base,
        "student02-public",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let _ = ResourceOwner::new("student02", "not-it").approve(&url);
    provider.resource_owner("student02").approve(&url).unwrap();
    for path in [
        "/",
        "/_lab",
        "/_lab/events",
        "/_lab/class",
        "/_lab?student=student02",
    ] {
        let page = get(&format!("{base}{path}"), None);
        assert_eq!(page.status, 200, "{path}");
        for secret in &secrets {
            assert!(
                !page.body.contains(secret.as_str()),
                "{path} shows a password"
            );
        }
    }
    for secret in &secrets {
        assert!(
            !login.body.contains(secret.as_str()),
            "the login page shows a password"
        );
    }
}

/// Guards the banner in class mode: the students' passwords are not printed,
/// not even shortened, and the demo users are said to be off.
#[test]
fn the_banner_of_a_class_prints_no_password() {
    let tmp = TempDir::new();
    assert!(class_init(&tmp.0, "2").status.success());
    let config = class_config(&tmp.0);
    let child = Command::new(BIN)
        .args(["--port", "0", "--config"])
        .arg(tmp.0.join("class.toml"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut banner = String::new();
    for line in BufReader::new(running.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let end = line.starts_with("Trace");
        banner.push_str(&line);
        banner.push('\n');
        if end {
            break;
        }
    }
    assert!(banner.contains("Class mode: 2 students"), "{banner}");
    for user in &config.users {
        assert!(!banner.contains(&user.password), "{banner}");
        assert!(
            !banner.contains(&user.password[..4]),
            "a password's start: {banner}"
        );
    }
}

struct Running(std::process::Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Guards the inspector in class: a flow is named by its student before the
/// login (their client id) and by the lesson its program announced in its
/// `User-Agent`; `?student=` keeps one student's flows, on the page and in
/// `/_lab/events`.
#[test]
fn the_inspector_names_student_and_lesson_and_filters_by_student() {
    let tmp = TempDir::new();
    let provider = class_provider(&tmp, |_| {});
    let base = provider.base_url();
    // What labkit does before it sends the browser off: read the metadata.
    let agent = common::agent();
    let answer = agent
        .get(&format!("{base}/.well-known/oauth-authorization-server"))
        .header("User-Agent", "oauth2-lab/lesson05 (client student01-app)")
        .call()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // student01's browser opens the login page; nobody has logged in.
    assert_eq!(
        get(
            &authorize_url(base, "student01-app", &[("state", "one")]),
            None
        )
        .status,
        200
    );
    // student02 finishes a flow of lesson 06 (its API call announces it).
    let url = authorize_url(
        base,
        "student02-public",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "two"),
        ],
    );
    let code = provider
        .resource_owner("student02")
        .approve(&url)
        .unwrap()
        .param("code")
        .unwrap();
    let token = post_form(
        &format!("{base}/token"),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", "student02-public"),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(token.status, 200, "{}", token.body);
    let access = token.json()["access_token"].as_str().unwrap().to_string();
    let me = agent
        .get(&format!("{base}/api/me"))
        .header("Authorization", &format!("Bearer {access}"))
        .header("User-Agent", "oauth2-lab/solution06")
        .call()
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);

    let all = get(&format!("{base}/_lab"), None).body;
    assert!(
        all.contains("<b>student01</b>'s client, not logged in yet"),
        "{all}"
    );
    assert!(
        all.contains("from <b class=\"lesson\">lesson05</b>"),
        "{all}"
    );
    assert!(
        all.contains("from <b class=\"lesson\">solution06</b>"),
        "{all}"
    );
    assert!(
        all.contains("href=\"/_lab?student=student01\""),
        "the picker: {all}"
    );
    let one = get(&format!("{base}/_lab?student=student01"), None).body;
    assert!(
        one.contains("lesson05") && one.contains("student01-app"),
        "{one}"
    );
    assert!(
        !one.contains("student02-public") && !one.contains("solution06"),
        "{one}"
    );
    let two = get(&format!("{base}/_lab?student=student02"), None).body;
    assert!(
        two.contains("student02-public") && !two.contains("student01-app"),
        "{two}"
    );

    let events = |q: &str| {
        get(&format!("{base}/_lab/events{q}"), None).json()["events"]
            .as_array()
            .unwrap()
            .clone()
    };
    let everyone = events("");
    let of_one = events("?student=student01");
    let of_two = events("?student=student02");
    assert!(!of_one.is_empty() && !of_two.is_empty());
    assert!(of_one.len() + of_two.len() < everyone.len() + 1);
    for e in &of_one {
        assert!(!e.to_string().contains("student02"), "{e}");
    }
    // The program's announcement is among the student's steps.
    assert!(
        of_one
            .iter()
            .any(|e| e["agent"] == "oauth2-lab/lesson05 (client student01-app)"),
        "{of_one:?}"
    );
    for e in &of_two {
        assert!(!e.to_string().contains("student01"), "{e}");
    }
    // The request's User-Agent is recorded with the step.
    assert!(
        everyone
            .iter()
            .any(|e| e["agent"] == "oauth2-lab/solution06")
    );
    assert_eq!(
        get(&format!("{base}/_lab?student=a&student=b"), None).status,
        400
    );
    // lab-client, which every student may use: one student's announcement does
    // not name another's flow.
    agent
        .get(&format!("{base}/.well-known/oauth-authorization-server"))
        .header("User-Agent", "oauth2-lab/lesson09 (client lab-client)")
        .call()
        .unwrap();
    assert_eq!(
        get(&authorize_url(base, "lab-client", &[]), None).status,
        200
    );
    assert!(!get(&format!("{base}/_lab"), None).body.contains("lesson09"));
}

/// One approved flow of student01 with tokens and an API call; returns the
/// code and the tokens, which must never be whole in the events file.
fn full_flow(provider: &MockProvider) -> Vec<String> {
    let base = provider.base_url();
    let url = authorize_url(base, "student01-app", &[]);
    let code = provider
        .resource_owner("student01")
        .approve(&url)
        .unwrap()
        .param("code")
        .unwrap();
    let answer = post_form(
        &format!("{base}/token"),
        Some(("student01-app", "lab-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json = answer.json();
    let access = json["access_token"].as_str().unwrap().to_string();
    let refresh = json["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(get(&format!("{base}/api/me"), Some(&access)).status, 200);
    vec![code, access, refresh]
}

/// Guards --events-file: every step is appended as a JSON line, across two
/// runs (never truncated); a new run starts from the file's steps and numbers
/// its flows after them; secrets are shortened as in the inspector.
#[test]
fn the_events_file_is_appended_across_runs_with_secrets_shortened() {
    let tmp = TempDir::new();
    let file = tmp.0.join("events.jsonl");
    let first = class_provider(&tmp, |c| c.events_file = Some(file.clone()));
    let mut secrets = full_flow(&first);
    let first_events = first.events();
    drop(first);
    let after_one = std::fs::read_to_string(&file).unwrap();
    assert_eq!(after_one.lines().count(), first_events.len());
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);

    let mut config = class_config(&tmp.0);
    config.events_file = Some(file.clone());
    let second = MockProvider::start(config).unwrap();
    // Seeded: the class view knows student01's flow from the first run.
    assert_eq!(second.events(), first_events);
    let class = get(&format!("{}/_lab/class", second.base_url()), None).body;
    assert!(
        class.contains("Tokens issued; 1 API call answered"),
        "{class}"
    );
    secrets.extend(full_flow(&second));
    let both = second.events();
    drop(second);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(&after_one),
        "the first run's lines were changed"
    );
    assert_eq!(text.lines().count(), both.len());
    let flows: Vec<Option<u64>> = both.iter().map(|e| e.flow).collect();
    let old_max = first_events.iter().filter_map(|e| e.flow).max().unwrap();
    assert!(
        both[first_events.len()..]
            .iter()
            .filter_map(|e| e.flow)
            .all(|f| f > old_max),
        "{flows:?}"
    );
    let seqs: Vec<u64> = both.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    for line in text.lines() {
        let event: mock_provider::Event = serde_json::from_str(line).unwrap();
        assert!(event.seq > 0);
    }
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a whole secret in the events file"
        );
        assert!(
            !text.contains("lab-secret"),
            "the client secret in the events file"
        );
    }
    for user in class_config(&tmp.0).users {
        assert!(!text.contains(&user.password));
    }
}

/// Guards --listen: an address other machines reach is refused without
/// --public-url, with one line naming what to add.
#[test]
fn listen_on_the_network_needs_a_public_url() {
    // Refused at once; a provider that started instead is stopped, and fails the test.
    let mut child = Running(
        Command::new(BIN)
            .args(["--listen", "0.0.0.0:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "--listen 0.0.0.0 without --public-url is serving the network"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("add --public-url"), "{stderr}");
    let refused = MockProvider::start(Config {
        listen: Some("0.0.0.0:0".parse().unwrap()),
        ..Config::default()
    });
    assert!(refused.is_err());
    // A public URL is a base URL: a path would change every endpoint.
    let out = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://lab.school.example:9000/oauth",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a base URL"));
}

/// One request with this Host; the status.
fn status_with_host(addr: SocketAddr, host: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Guards the Host check (RFC 9110 §7.2) with --public-url: the public URL's
/// host with its port, and the loopback names with the listening port; no
/// other name or port. The issuer is the public URL, and loopback clients'
/// redirect URIs stay loopback.
#[test]
fn the_host_check_is_bound_to_the_public_url() {
    let provider = MockProvider::start(Config {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        public_url: Some("http://Lab.School.example:9443/".into()),
        ..Config::default()
    })
    .unwrap();
    let addr = provider.addr();
    assert_eq!(provider.base_url(), "http://lab.school.example:9443");
    assert_eq!(status_with_host(addr, "lab.school.example:9443"), 200);
    assert_eq!(status_with_host(addr, "LAB.school.example:9443"), 200);
    assert_eq!(
        status_with_host(addr, &format!("127.0.0.1:{}", addr.port())),
        200
    );
    assert_eq!(status_with_host(addr, "lab.school.example:9444"), 421);
    assert_eq!(status_with_host(addr, "lab.school.example"), 421);
    assert_eq!(status_with_host(addr, "evil.example:9443"), 421);
    // The metadata sends students to the public URL.
    let local = format!("http://{addr}");
    let metadata = get(
        &format!("{local}/.well-known/oauth-authorization-server"),
        None,
    );
    assert_eq!(metadata.status, 200);
    assert_eq!(metadata.json()["issuer"], "http://lab.school.example:9443");
    assert_eq!(
        metadata.json()["token_endpoint"],
        "http://lab.school.example:9443/token"
    );
    // The redirect goes back to the student's laptop: loopback (RFC 8252 §7.3).
    let redirect = provider
        .resource_owner("alice")
        .approve(&authorize_url(&local, "lab-client", &[]))
        .unwrap();
    assert!(redirect.param("code").is_some());
    assert_eq!(
        redirect.param("iss").as_deref(),
        Some("http://lab.school.example:9443")
    );
}

/// Guards the seeding from --events-file: however many steps came after it,
/// each student's latest flow is read back, so the class view shows where
/// every student stood before the restart.
#[test]
fn the_class_view_is_seeded_with_each_student_s_latest_flow() {
    let tmp = TempDir::new();
    let file = tmp.0.join("events.jsonl");
    let first = class_provider(&tmp, |c| c.events_file = Some(file.clone()));
    full_flow(&first);
    let mut last = first.events().pop().unwrap();
    drop(first);
    // More steps than the inspector keeps, none of them student01's.
    let mut text = String::new();
    for _ in 0..2100 {
        last.seq += 1;
        last.flow = None;
        last.user = None;
        last.request = "GET /nothing".into();
        text.push_str(&serde_json::to_string(&last).unwrap());
        text.push('\n');
    }
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let mut config = class_config(&tmp.0);
    config.events_file = Some(file);
    let second = MockProvider::start(config).unwrap();
    let class = get(&format!("{}/_lab/class", second.base_url()), None).body;
    let row = class
        .lines()
        .find(|l| l.contains("<th>student01</th>"))
        .unwrap_or_else(|| panic!("no row for student01: {class}"));
    assert!(row.contains("Tokens issued; 1 API call answered"), "{row}");
}
