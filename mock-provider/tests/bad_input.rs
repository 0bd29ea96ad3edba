//! Malformed input of any kind gets a 4xx with a reason, never a 5xx, a panic or a
//! hang. Requests are written by hand on a raw socket.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use mock_provider::{Config, ManualClock, MockProvider, http::Limits};

/// `raw` with each `Host: x` naming the provider at `addr`, as a client
/// does: any other Host is refused before anything else is looked at.
fn with_host(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let (from, to) = (b"Host: x\r\n", format!("Host: {addr}\r\n"));
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut i = 0;
    while i < raw.len() {
        if raw[i..].starts_with(from) {
            out.extend_from_slice(to.as_bytes());
            i += from.len();
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

/// Sends `raw` and reads the answer until the server closes or answers in full.
fn send(addr: SocketAddr, raw: &[u8]) -> (u16, String) {
    let raw = &with_host(addr, raw)[..];
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The server may answer and close before reading all of it.
    let _ = stream.write_all(raw);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        // No answer at all (the server closed or crashed): 0, which no case expects.
        .unwrap_or(0);
    (status, text)
}

fn form_post(path: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A form POST with extra headers.
fn form_post_with(path: &str, headers: &[(&str, &str)], content_type: &str, body: &str) -> Vec<u8> {
    let extra: String = headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}\r\n"))
        .collect();
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
        // RFC 9112 §3.2.2: the absolute form is accepted; only the path matters.
        ("absolute-form target", get_req("http://127.0.0.1/api/me"), 401),
        // RFC 9112 §3.2: exactly one Host in HTTP/1.1.
        ("no Host header", b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(), 400),
        ("two Host headers", b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n".to_vec(), 400),
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
        ("bad Basic credentials", b"POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(), 401),
        ("bad events cursor", get_req("/_lab/events?after=x"), 400),
        // Request line and headers.
        ("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(), 400),
        ("space in a header name", b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n".to_vec(), 400),
        ("NUL in the path", b"GET /tok\0en HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        ("raw non-UTF-8 byte in the target", b"GET /authorize?client_id=\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        ("folded header line", b"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n".to_vec(), 400),
        ("asterisk-form target", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        ("authority-form target", b"CONNECT 127.0.0.1:9000 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        ("lower-case method", b"post /token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), 405),
        ("PUT /token", b"PUT /token HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(), 405),
        ("GET /revoke", get_req("/revoke"), 405),
        ("POST /.well-known metadata", form_post("/.well-known/oauth-authorization-server", form, ""), 405),
        ("query far over the head limit", get_req(&format!("/authorize?state={}", "s".repeat(20_000))), 431),
        // Half-sent requests (the client closes its side).
        ("request line cut short", b"GET /tok".to_vec(), 400),
        ("headers cut short", b"POST /token HTTP/1.1\r\nContent-Ty".to_vec(), 400),
        ("chunked body cut short", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc".to_vec(), 400),
        // Framing.
        ("Content-Length with a sign", b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: +3\r\n\r\na=b".to_vec(), 400),
        ("negative Content-Length", b"POST /token HTTP/1.1\r\nContent-Length: -1\r\n\r\n".to_vec(), 400),
        ("Content-Length as a list", b"POST /token HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc".to_vec(), 400),
        ("Content-Length too long to be a number", format!("POST /token HTTP/1.1\r\nContent-Length: {}\r\n\r\n", "9".repeat(40)).into_bytes(), 413),
        ("chunked twice", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(), 400),
        ("chunk size with a sign", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n".to_vec(), 400),
        ("chunk size that overflows the body length", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nffffffffffffffff\r\nabc\r\n".to_vec(), 413),
        ("chunk size past 64 bits", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000000000\r\nabc\r\n".to_vec(), 413),
        ("chunk without its CRLF", b"POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n".to_vec(), 400),
        ("chunks adding up past the limit", format!("POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{}", "8000\r\n".to_string() + &"a".repeat(0x8000) + "\r\n8001\r\n").into_bytes(), 413),
        ("endless trailers", format!("POST /token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{}", "X-T: 1\r\n".repeat(3000)).into_bytes(), 431),
        ("100-continue with a huge body", format!("POST /token HTTP/1.1\r\nExpect: 100-continue\r\nContent-Type: {form}\r\nContent-Length: 999999999\r\n\r\n").into_bytes(), 413),
        // Bodies and parameters.
        ("multipart to /token", form_post("/token", "multipart/form-data; boundary=x", "--x--"), 400),
        ("JSON to /revoke", form_post("/revoke", "application/json", "{}"), 400),
        ("form to /authorize as text", form_post("/authorize", "text/plain", "decision=approve"), 400),
        ("bad percent-encoding in /revoke", form_post("/revoke", form, "token=%"), 400),
        ("truncated escape at the end of a form", form_post("/token", form, "grant_type=authorization_code&code=%4"), 400),
        ("overlong UTF-8 in the form", form_post("/token", form, "grant_type=%C0%AF"), 400),
        ("UTF-16 surrogate in the form", form_post("/token", form, "grant_type=%ED%A0%80"), 400),
        ("thousands of repeated parameters", form_post("/token", form, &"a=1&".repeat(5000)), 400),
        ("repeated client_id in /authorize", get_req("/authorize?client_id=lab-client&client_id=lab-public"), 400),
        ("lone % in /authorize", get_req("/authorize?%"), 400),
        ("only separators in /authorize", get_req("/authorize?&&&===&"), 400),
        ("bad percent-encoding in the API query", get_req("/api/posts?limit=%zz"), 400),
        ("events cursor past u64", get_req("/_lab/events?after=99999999999999999999999"), 400),
        ("negative events cursor", get_req("/_lab/events?after=-1"), 400),
        // Credentials.
        ("Basic credentials that are not UTF-8", form_post_with("/token", &[("Authorization", "Basic //79")], form, "grant_type=authorization_code"), 401),
        ("Basic credentials without a colon", form_post_with("/token", &[("Authorization", "Basic bGFiLWNsaWVudA==")], form, "grant_type=authorization_code"), 401),
        ("Basic and client_secret at once", form_post_with("/token", &[("Authorization", "Basic bGFiLWNsaWVudDpsYWItc2VjcmV0")], form, "grant_type=authorization_code&client_secret=lab-secret"), 400),
        ("Authorization header not UTF-8 on the API", b"GET /api/me HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n".to_vec(), 400),
        ("a huge unknown bearer token", format!("GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", "a".repeat(10_000)).into_bytes(), 401),
    ];
    assert!(cases.len() >= 75, "{} cases", cases.len());
    // Every case is tried, and every wrong answer reported at once.
    let mut wrong = Vec::new();
    for (what, raw, expected) in cases {
        let (status, text) = send(p.addr(), &raw);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
        if status != expected || body.trim().is_empty() {
            wrong.push(format!(
                "{what}: expected {expected} with a reason, got {text:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
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
        .write_all(&with_host(p.addr(), b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
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

#[test]
fn absurd_limit_and_cursor_values_get_a_400_with_a_reason() {
    let p = start();
    let (access, _) = tokens(&p);
    let base64 = |s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let long_cursor = "A".repeat(10_000);
    let other_users_cursor = base64("bob:5");
    let huge_offset = base64("alice:99999999999999999999999");
    let past_the_end = base64("alice:138");
    let signed_offset = base64("alice:+5");
    for query in [
        "limit=0",
        "limit=-1",
        "limit=101",
        "limit=99999999999999999999999",
        "limit=1e3",
        "limit=%20%35",
        "limit=10&limit=20",
        "cursor=!!!",
        "cursor=%FF",
        &format!("cursor={long_cursor}"),
        &format!("cursor={other_users_cursor}"),
        &format!("cursor={huge_offset}"),
        &format!("cursor={past_the_end}"),
        &format!("cursor={signed_offset}"),
        "cursor=a&cursor=b",
    ] {
        let answer = get(
            &format!("{}/api/posts?{query}", p.base_url()),
            Some(&access),
        );
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert_eq!(answer.error(), "invalid_request", "{query}");
        assert!(
            !answer.json()["error_description"]
                .as_str()
                .unwrap_or("")
                .is_empty(),
            "{query}: the answer gives a reason"
        );
    }
    // The edges themselves are fine.
    for query in [
        "limit=1",
        "limit=100",
        &format!("cursor={}", base64("alice:137")),
    ] {
        let answer = get(
            &format!("{}/api/posts?{query}", p.base_url()),
            Some(&access),
        );
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    }
}

#[test]
fn connection_options_are_read_as_a_list_in_any_case() {
    let p = start();
    let answers = |first: &str| {
        let raw =
            format!("{first}\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        send(p.addr(), raw.as_bytes())
            .1
            .matches("HTTP/1.1 ")
            .count()
    };
    let meta = "GET /.well-known/oauth-authorization-server";
    assert_eq!(answers(&format!("{meta} HTTP/1.1\r\nHost: x")), 2);
    assert_eq!(
        answers(&format!(
            "{meta} HTTP/1.1\r\nHost: x\r\nConnection: TE, Close"
        )),
        1
    );
    assert_eq!(
        answers(&format!(
            "{meta} HTTP/1.1\r\nHost: x\r\nConnection: closed-caption"
        )),
        2
    );
    assert_eq!(answers(&format!("{meta} HTTP/1.0")), 1);
    assert_eq!(
        answers(&format!("{meta} HTTP/1.0\r\nConnection: Keep-Alive")),
        2
    );
}

/// RFC 9112 §9.3 and Appendix C.2.2: an HTTP/1.0 client keeps a connection only
/// when the answer says `Connection: keep-alive`; without it, the client waits
/// for the server to close.
#[test]
fn http_1_0_keep_alive_is_announced() {
    let p = start();
    // The head of the first answer, when `first` is followed by a request that closes.
    let head = |first: &str| {
        let raw =
            format!("{first}\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = send(p.addr(), raw.as_bytes()).1;
        answer
            .split("\r\n\r\n")
            .next()
            .unwrap()
            .to_ascii_lowercase()
    };
    let meta = "GET /.well-known/oauth-authorization-server";
    let first = head(&format!("{meta} HTTP/1.0\r\nConnection: Keep-Alive"));
    assert!(first.contains("\r\nconnection: keep-alive"), "{first}");
    let first = head(&format!("{meta} HTTP/1.1\r\nHost: x"));
    assert!(
        !first.contains("\r\nconnection:"),
        "HTTP/1.1 keeps connections by default: {first}"
    );
}
