//! The lesson listener survives floods: idle connections beyond its bound, a
//! process out of file descriptors, clients that never finish a request. The
//! real callback is still received. Bounds and time-outs are set small here.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use labkit::{ListenLimits, listen_with};

/// A browser's redirect: one GET, the whole answer read.
fn callback(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /callback?code=c1&state=s1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

/// Waits for `/callback` and answers it; other requests get 404.
fn serve_callback(server: &labkit::Listener) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let request = server
            .recv_timeout(left)
            .expect("recv keeps working")
            .expect("the callback arrived in time");
        let url = request.url().to_string();
        if url.starts_with("/callback") {
            request.respond(labkit::page(200, "Got it", "ok")).unwrap();
            return url;
        }
        let _ = request.respond(labkit::page(404, "Not here", "no"));
    }
}

#[test]
fn idle_connections_beyond_the_bound_do_not_keep_the_callback_out() {
    let server = listen_with(
        0,
        ListenLimits {
            max_connections: 8,
            ..ListenLimits::default()
        },
    )
    .unwrap();
    let port = labkit::port_of(&server);
    // Connections that never send a byte, and some that stop half-way.
    let mut idle: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    for s in idle.iter_mut().take(20) {
        s.write_all(b"GET /x HTTP/1.1\r\nHo").unwrap();
    }
    let browser = std::thread::spawn(move || callback(port));
    assert_eq!(serve_callback(&server), "/callback?code=c1&state=s1");
    let answer = browser.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Connection: close"), "{answer}");
    assert!(
        server.open_connections() <= 8,
        "{} open, over the bound",
        server.open_connections()
    );
    drop(idle);
}

#[test]
fn a_connection_that_sends_nothing_is_closed_after_the_read_timeout() {
    let server = listen_with(
        0,
        ListenLimits {
            read_timeout: Duration::from_millis(200),
            ..ListenLimits::default()
        },
    )
    .unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", labkit::port_of(&server))).unwrap();
    s.write_all(b"GET /callback HTTP/1.1\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = s.read_to_end(&mut rest).is_ok();
    assert!(closed, "the listener closed the connection");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed after {:?}",
        started.elapsed()
    );
    assert_eq!(server.open_connections(), 0);
}

#[test]
fn malformed_requests_get_a_400_and_recv_goes_on() {
    let server = listen_with(0, ListenLimits::default()).unwrap();
    let port = labkit::port_of(&server);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"\x16\x03\x01junk\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let browser = std::thread::spawn(move || callback(port));
    serve_callback(&server);
    assert!(browser.join().unwrap().starts_with("HTTP/1.1 200"));
}

/// Run by the test below in a child process whose soft limit on open files is
/// 64: the listener runs out of descriptors (its bound is set far higher), and
/// must go on accepting. Does nothing in a plain `cargo test`.
#[test]
fn child_out_of_file_descriptors() {
    if std::env::var_os("LABKIT_LISTENER_CHILD").is_none() {
        return;
    }
    #[cfg(unix)]
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = 64;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    let server = listen_with(
        0,
        ListenLimits {
            max_connections: 10_000,
            ..ListenLimits::default()
        },
    )
    .unwrap();
    println!("port {}", labkit::port_of(&server));
    std::io::stdout().flush().unwrap();
    println!("served {}", serve_callback(&server));
}

/// Unix only: the child lowers its own limit on open files with setrlimit.
#[cfg(unix)]
#[test]
fn the_listener_survives_running_out_of_file_descriptors() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_out_of_file_descriptors", "--nocapture"])
        .env("LABKIT_LISTENER_CHILD", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let port: u16 = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child said no port"
        );
        if let Some(port) = line.trim().strip_prefix("port ") {
            break port.parse().unwrap();
        }
    };
    // Far more idle connections than the child has descriptors.
    let idle: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(idle.len() > 100, "{} connected", idle.len());
    std::thread::sleep(Duration::from_millis(100));
    let answer = callback(port);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("served /callback?code=c1"), "{rest}");
    drop(idle);
}
