//! Slow, stalled and idle clients hold only their own connection: everyone else
//! is served as usual, and the provider lets go of them after a bounded time.
//! Timeouts here are a fraction of a second.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use mock_provider::{Config, MockProvider, http::Limits};

const READ_TIMEOUT: Duration = Duration::from_millis(300);

fn provider_with(limits: Limits) -> MockProvider {
    MockProvider::start(Config {
        limits,
        ..Config::default()
    })
    .unwrap()
}

/// A metadata request naming the provider in Host, as a client does.
fn meta_request(p: &MockProvider) -> String {
    format!(
        "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: {}\r\n\r\n",
        p.addr()
    )
}

fn short_timeouts() -> Limits {
    Limits {
        read_timeout: READ_TIMEOUT,
        ..Limits::default()
    }
}

/// Everything the server sends until it closes, waiting at most `patience`.
fn read_all(stream: &mut TcpStream, patience: Duration) -> String {
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends `start` at once, then `more` one byte at a time, each well within the
/// read timeout, for as long as the server listens; returns what the server
/// answered and when.
fn trickle(p: &MockProvider, start: &[u8], more: &[u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(p.addr()).unwrap();
    stream.set_nodelay(true).unwrap();
    stream.write_all(start).unwrap();
    let started = Instant::now();
    let mut reader = stream.try_clone().unwrap();
    let answered = Arc::new(AtomicBool::new(false));
    let stop = answered.clone();
    let more = more.to_vec();
    let writer = std::thread::spawn(move || {
        for byte in more.iter().cycle().take(200) {
            if stop.load(Ordering::SeqCst) || stream.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let answer = read_all(&mut reader, Duration::from_secs(5));
    let took = started.elapsed();
    answered.store(true, Ordering::SeqCst);
    let _ = writer.join();
    (answer, took)
}

#[test]
fn a_head_trickled_a_byte_at_a_time_is_cut_off_with_408() {
    let p = provider_with(short_timeouts());
    // Never ends: the header line grows for as long as the client cares to send.
    let (answer, took) = trickle(&p, b"GET / HTTP/1.1\r\nX-Slow: ", b"a");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
    assert!(
        took < 3 * READ_TIMEOUT,
        "cut off after {took:?}, not when the client stopped"
    );
}

#[test]
fn a_body_trickled_a_byte_at_a_time_is_cut_off_with_408() {
    let p = provider_with(short_timeouts());
    let head = b"POST /token HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n";
    let (answer, took) = trickle(&p, head, b"a");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < 3 * READ_TIMEOUT, "cut off after {took:?}");
}

#[test]
fn many_idle_keep_alive_connections_do_not_hold_up_a_flow() {
    let p = start();
    // Connections that finished a request and keep the connection open, and
    // connections that never sent anything (a port scan, a browser's preconnect).
    let mut idle: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = TcpStream::connect(p.addr()).unwrap();
            s.write_all(meta_request(&p).as_bytes()).unwrap();
            let mut first = [0u8; 12];
            s.read_exact(&mut first).unwrap();
            assert_eq!(&first, b"HTTP/1.1 200");
            s
        })
        .collect();
    idle.extend((0..100).map(|_| TcpStream::connect(p.addr()).unwrap()));
    let started = Instant::now();
    let (access, _) = tokens(&p);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        200
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a full flow took {:?} beside 200 idle connections",
        started.elapsed()
    );
}

#[test]
fn idle_keep_alive_connections_are_closed_after_the_read_timeout() {
    let p = provider_with(short_timeouts());
    let mut s = TcpStream::connect(p.addr()).unwrap();
    s.write_all(meta_request(&p).as_bytes()).unwrap();
    let started = Instant::now();
    let answer = read_all(&mut s, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < 3 * READ_TIMEOUT,
        "closed after {:?}",
        started.elapsed()
    );
}

#[test]
fn over_the_cap_the_oldest_idle_connection_is_closed_and_the_new_one_served() {
    let p = provider_with(Limits {
        max_connections: 3,
        ..Limits::default()
    });
    // The oldest: a finished request on a kept-alive connection.
    let mut oldest = TcpStream::connect(p.addr()).unwrap();
    oldest.write_all(meta_request(&p).as_bytes()).unwrap();
    let mut first = [0u8; 12];
    oldest.read_exact(&mut first).unwrap();
    // Then two that are in the middle of a request.
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(p.addr()).unwrap();
            s.write_all(format!("GET /api/me HTTP/1.1\r\nHost: {}\r\nCon", p.addr()).as_bytes())
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    // A new connection over the cap is never refused.
    let mut extra = TcpStream::connect(p.addr()).unwrap();
    extra
        .write_all(
            format!(
                "{}\r\nConnection: close\r\n\r\n",
                meta_request(&p).trim_end()
            )
            .as_bytes(),
        )
        .unwrap();
    let answer = read_all(&mut extra, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The idle one made room; the two requests under way go on.
    // Its first answer, then the end: the server closed it.
    oldest
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut rest = Vec::new();
    assert!(
        oldest.read_to_end(&mut rest).is_ok(),
        "the oldest idle connection was closed"
    );
    for s in &mut slow {
        s.write_all(b"nection: close\r\n\r\n").unwrap();
        let answer = read_all(s, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
}

#[test]
fn a_client_that_never_reads_its_answers_does_not_hold_up_others() {
    let p = provider_with(short_timeouts());
    let addr = p.addr();
    let mut s = TcpStream::connect(p.addr()).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
    // Pipelined requests whose answers (a page each) pile up unread until the
    // socket buffers fill; the server's writes then time out and it closes.
    let flood = std::thread::spawn(move || {
        let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").repeat(2000);
        let _ = s.write_all(request.as_bytes());
        s
    });
    let started = Instant::now();
    // Meanwhile another student is served.
    let (access, _) = tokens(&p);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        200
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(flood);
}

/// RFC 9112 §9.6: after the answer to a request with `Connection: close` the
/// server closes. The last answers are held back to leave with the FIN; a
/// reader too slow for the socket buffers still gets every byte, then the end.
#[test]
fn answers_before_a_close_arrive_whole_when_read_slowly() {
    let p = provider_with(Limits::default());
    let addr = p.addr();
    let mut s = TcpStream::connect(addr).unwrap();
    let mut reader = s.try_clone().unwrap();
    const PIPELINED: usize = 1500;
    let writer = std::thread::spawn(move || {
        let mut requests = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").repeat(PIPELINED - 1);
        requests.push_str(&format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        ));
        s.write_all(requests.as_bytes()).unwrap();
        s
    });
    // Every request is sent before anything is read: the answers (megabytes)
    // fill the socket buffers, and the server must wait for room.
    let s = writer.join().unwrap();
    let answer = read_all(&mut reader, Duration::from_secs(20));
    drop(s);
    assert!(
        answer.len() > 4 << 20,
        "{} bytes: too few to fill the buffers",
        answer.len()
    );
    assert_eq!(answer.matches("HTTP/1.1 200").count(), PIPELINED);
    assert!(
        answer.trim_end().ends_with("</html>"),
        "the last answer was cut short"
    );
}
