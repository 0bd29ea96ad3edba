//! The Host check (RFC 9110 §7.2) against DNS rebinding, and the headers every
//! answer carries: a page on another site whose name is pointed at 127.0.0.1
//! must get nothing from any route, and no answer may be sniffed into a page.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;
use mock_provider::{Config, MockProvider};

/// Sends one request with these head lines after the request line, and
/// returns the status and the whole answer.
fn raw(addr: SocketAddr, request_line: &str, lines: &[&str], body: &str) -> (u16, String) {
    let mut head = format!("{request_line}\r\n");
    for line in lines {
        head.push_str(line);
        head.push_str("\r\n");
    }
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("Connection: close\r\n\r\n");
    head.push_str(body);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// Every route, as a rebound page would try it.
fn routes() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("GET", "/", ""),
        ("GET", "/.well-known/oauth-authorization-server", ""),
        ("GET", "/_lab", ""),
        ("GET", "/_lab/events", ""),
        ("GET", "/api/me", ""),
        ("GET", "/api/posts", ""),
        (
            "GET",
            "/authorize?response_type=code&client_id=lab-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A8123%2Fcallback",
            "",
        ),
        ("POST", "/authorize", "request_id=x&decision=approve"),
        ("GET", "/device", ""),
        ("POST", "/device", "user_code=BCDF-GHJK"),
        (
            "POST",
            "/token",
            "grant_type=authorization_code&code=x&client_id=lab-public",
        ),
        ("POST", "/revoke", "token=x&client_id=lab-public"),
        ("POST", "/device_authorization", "client_id=lab-public"),
        ("GET", "/nowhere", ""),
    ]
}

// RFC 9110 §7.2, §15.5.20: a request for another host gets 421 and nothing
// else, on every route; the provider's own names get their answers.
#[test]
fn rfc9110_7_2_another_host_gets_421_on_every_route() {
    let p = start();
    // Something to steal: a flow in the trace.
    tokens(&p);
    let port = p.addr().port();
    let own = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ];
    let foreign = [
        format!("rebind.attacker.example:{port}"),
        "rebind.attacker.example".to_string(),
        // The right name with another port, or none, is another origin.
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("localhost.attacker.example:{port}"),
        format!("127.0.0.1:{port}.attacker.example"),
        String::new(),
    ];
    for (method, path, body) in routes() {
        let line = format!("{method} {path} HTTP/1.1");
        for host in &foreign {
            let (status, answer) = raw(p.addr(), &line, &[&format!("Host: {host}")], body);
            assert_eq!(status, 421, "{line} with Host {host:?}: {answer}");
            assert!(
                answer.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
                "RFC 9110 §15.5.20's reason phrase: {answer}"
            );
            assert!(answer.contains("misdirected_request"), "{answer}");
            for leak in ["alice", "lab_", "Location:", "<html", "Set-Cookie"] {
                assert!(!answer.contains(leak), "{line} leaks {leak:?}: {answer}");
            }
        }
        for host in &own {
            let (status, answer) = raw(p.addr(), &line, &[&format!("Host: {host}")], body);
            assert_ne!(status, 421, "{line} with Host {host:?}: {answer}");
        }
    }
}

// RFC 9110 §7.2: HTTP/1.0 may leave out Host, but then nothing says the
// request is for this provider, so it is refused like a foreign one (no
// browser sends a request without Host; labkit, the lessons and the load
// tool always send it).
#[test]
fn rfc9110_7_2_a_request_without_host_is_refused() {
    let p = start();
    let (status, answer) = raw(p.addr(), "GET /_lab/events HTTP/1.0", &[], "");
    assert_eq!(status, 421, "{answer}");
    assert!(answer.contains("--allow-host"), "says what to do: {answer}");
}

// --allow-host: a name a proxy or tunnel in front is reached by, with any port.
#[test]
fn rfc9110_7_2_names_given_with_allow_host_are_answered() {
    let p = MockProvider::start(Config {
        allowed_hosts: vec!["lab.school.example".into()],
        ..Config::default()
    })
    .unwrap();
    let meta = "GET /.well-known/oauth-authorization-server HTTP/1.1";
    for host in ["lab.school.example", "LAB.school.example:8443"] {
        let (status, answer) = raw(p.addr(), meta, &[&format!("Host: {host}")], "");
        assert_eq!(status, 200, "{host}: {answer}");
    }
    for host in ["school.example", "lab.school.example.attacker.example"] {
        let (status, _) = raw(p.addr(), meta, &[&format!("Host: {host}")], "");
        assert_eq!(status, 421, "{host}");
    }
}

// No answer may be read as another type than it says: nosniff on every
// answer, refusals included (the inspector already sent it; now all do).
#[test]
fn every_answer_says_nosniff() {
    let p = start();
    let host = format!("Host: {}", p.addr());
    for (method, path, body) in routes() {
        let line = format!("{method} {path} HTTP/1.1");
        for lines in [vec![host.as_str()], vec!["Host: rebind.attacker.example"]] {
            let (status, answer) = raw(p.addr(), &line, &lines, body);
            let nosniff = answer
                .lines()
                .filter(|l| l.eq_ignore_ascii_case("X-Content-Type-Options: nosniff"))
                .count();
            assert_eq!(nosniff, 1, "{line} ({status}): {answer}");
        }
    }
    // Also what the HTTP layer refuses before any route runs (a malformed head).
    let (status, answer) = raw(p.addr(), "GET / HTTP/1.1", &[&host, "Bad Header"], "");
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer
            .lines()
            .any(|l| l.eq_ignore_ascii_case("X-Content-Type-Options: nosniff")),
        "{answer}"
    );
}

// RFC 9111 §5.2.2.5: the API's answers are personal data, so no cache may
// keep them (as RFC 6749 §5.1 asks of token answers), on success and on refusal.
#[test]
fn rfc9111_5_2_2_5_api_answers_are_not_stored_by_any_cache() {
    let p = start();
    let (access, _) = tokens(&p);
    for path in ["/api/me", "/api/posts"] {
        let url = format!("{}{path}", p.base_url());
        for answer in [get(&url, Some(&access)), get(&url, None)] {
            assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
            assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        }
    }
}
