//! Malformed input of any kind gets a 4xx with a reason, never a 5xx, a panic or a
//! hang (DESIGN D5 behaviour 15). Requests are written by hand on a raw socket.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use mock_provider::{Config, ManualClock, MockProvider, http::Limits};

/// Sends `raw` and reads the answer until the server closes or answers in full.
fn send(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no status line in {text:?} for {:?}",
                String::from_utf8_lossy(raw)
            )
        });
    (status, text)
}

fn form_post(path: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get_req(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

#[test]
fn malformed_requests_get_a_4xx_with_a_reason() {
    let p = start();
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("unknown path", get_req("/nowhere"), 404),
        ("wrong method on /token", get_req("/token"), 405),
        ("wrong method on /api/me", form_post("/api/me", form, ""), 405),
        ("DELETE /authorize", b"DELETE /authorize HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), 405),
        ("JSON to /token", form_post("/token", "application/json", "{\"grant_type\":\"authorization_code\"}"), 400),
        ("no content type on /token", b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b".to_vec(), 400),
        ("bad percent-encoding in the form", form_post("/token", form, "grant_type=%zz"), 400),
        ("bad UTF-8 in the form", form_post("/token", form, "grant_type=%ff%fe"), 400),
        ("repeated form parameter", form_post("/token", form, "grant_type=a&grant_type=b"), 400),
        ("bad percent-encoding in /authorize", get_req("/authorize?client_id=%G1"), 400),
        ("bad UTF-8 in /authorize", get_req("/authorize?client_id=%C3%28"), 400),
        ("form to /authorize without id", form_post("/authorize", form, "decision=approve"), 400),
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), 400),
        ("binary junk", vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, b'\r', b'\n', b'\r', b'\n'], 400),
        ("absolute-form target", get_req("http://evil.example/api/me"), 400),
        ("header without colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n".to_vec(), 400),
        ("Content-Length not a number", b"POST /token HTTP/1.1\r\nContent-Length: ten\r\n\r\n".to_vec(), 400),
        ("two Content-Lengths", b"POST /token HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(), 400),
        ("Content-Length and chunked", b"POST /token HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), 400),
        ("unknown transfer coding", b"POST /token HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(), 400),
        ("bad chunk size", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(), 400),
        ("body shorter than announced", b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\ngrant".to_vec(), 400),
        ("huge body", format!("POST /token HTTP/1.1\r\nContent-Type: {form}\r\nContent-Length: 10000000\r\n\r\n").into_bytes(), 413),
        ("huge header", format!("GET / HTTP/1.1\r\nX-Junk: {}\r\n\r\n", "a".repeat(20_000)).into_bytes(), 431),
        ("too many headers", format!("GET / HTTP/1.1\r\n{}\r\n", "X-A: 1\r\n".repeat(100)).into_bytes(), 431),
        ("two Authorization headers on the API", b"GET /api/me HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\nConnection: close\r\n\r\n".to_vec(), 400),
        ("empty bearer", b"GET /api/me HTTP/1.1\r\nAuthorization: Bearer \r\nConnection: close\r\n\r\n".to_vec(), 400),
        ("bearer with bad characters", b"GET /api/me HTTP/1.1\r\nAuthorization: Bearer a b,c\r\nConnection: close\r\n\r\n".to_vec(), 400),
        ("bad Basic credentials", b"POST /token HTTP/1.1\r\nAuthorization: Basic !!!\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(), 401),
        ("bad events cursor", get_req("/_lab/events?after=x"), 400),
    ];
    for (what, raw, expected) in cases {
        let (status, text) = send(p.addr(), &raw);
        assert_eq!(status, expected, "{what}: {text}");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        assert!(!body.trim().is_empty(), "{what}: the answer gives a reason");
    }
    // The provider is still fine afterwards.
    let (access, _) = tokens(&p);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        200
    );
}

#[test]
fn a_405_names_the_allowed_methods() {
    let p = start();
    let (status, text) = send(p.addr(), &get_req("/revoke"));
    assert_eq!(status, 405);
    assert!(text.contains("Allow: POST"), "{text}");
}

#[test]
fn chunked_and_expect_continue_bodies_are_read() {
    let p = start();
    let body = "grant_type=password";
    let raw = format!(
        "POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: Basic bGFiLWNsaWVudDpsYWItc2VjcmV0\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let (status, text) = send(p.addr(), raw.as_bytes());
    assert!(
        text.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 400"),
        "{text}"
    );
    assert_eq!(status, 100);
    assert!(
        text.contains("unsupported_grant_type"),
        "the body was read: {text}"
    );
}

#[test]
fn a_stalled_client_does_not_hold_up_anyone_else() {
    let p = MockProvider::start(Config {
        limits: Limits {
            read_timeout: Duration::from_millis(300),
            ..Limits::default()
        },
        ..Config::default()
    })
    .unwrap();
    // Many clients send half a request and stop.
    let mut stalled: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(p.addr()).unwrap();
            s.write_all(b"POST /token HTTP/1.1\r\nContent-Length: 100\r\n\r\ngrant_ty")
                .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    let (access, _) = tokens(&p);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        200
    );
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "served while 50 clients stall"
    );
    // Each stalled client is answered 408 when its time runs out, then closed.
    let mut answer = String::new();
    stalled[0]
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stalled[0].read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    stalled.clear();
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let p = start();
    let mut stream = TcpStream::connect(p.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // Pipelined: both requests in one write.
    stream
        .write_all(b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("HTTP/1.1 404"),
        "second answer on the same connection: {text}"
    );
}

#[test]
fn metadata_follows_rfc8414() {
    let p = start();
    let meta = get(
        &format!("{}/.well-known/oauth-authorization-server", p.base_url()),
        None,
    )
    .json();
    assert_eq!(meta["issuer"], p.base_url());
    assert_eq!(meta["token_endpoint"], format!("{}/token", p.base_url()));
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    // Every endpoint it names answers.
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "revocation_endpoint",
    ] {
        let url = meta[key].as_str().unwrap();
        let (status, _) = send(p.addr(), &get_req(&url[p.base_url().len()..]));
        assert!(status != 404, "{key} {url} exists");
    }
}

#[test]
fn expired_state_is_purged_so_memory_stays_bounded() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    for _ in 0..5 {
        tokens(&p);
    }
    let _unused_code = code_for(&p, "lab-client", &[]);
    let _pending_page = get(&authorize_url(p.base_url(), "lab-client", &[]), None);
    let counts = p.counts();
    assert_eq!(
        (counts.codes, counts.access_tokens, counts.pending),
        (6, 5, 1),
        "{counts:?}"
    );
    clock.advance(Duration::from_secs(61));
    assert_eq!(p.counts().codes, 0, "codes are purged after 60 s");
    clock.advance(Duration::from_secs(3600 + 600));
    let counts = p.counts();
    assert_eq!((counts.access_tokens, counts.pending), (0, 0), "{counts:?}");
    clock.advance(Duration::from_secs(15 * 24 * 3600));
    let counts = p.counts();
    assert_eq!((counts.refresh_tokens, counts.grants), (0, 0), "{counts:?}");
}
