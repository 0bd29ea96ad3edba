//! Under a low limit on open files (a laptop's 1,024, here 128), more slow
//! clients than the process may hold do not keep a normal client out: the
//! connection bound follows the limit, and the slowest connections make room.
//! The provider runs in a child process (this test binary again), whose limit
//! is lowered before it starts.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use mock_provider::{Config, MockProvider};

const CHILD: &str = "MOCK_PROVIDER_FD_LIMIT_CHILD";

/// The child: lowers its soft limit, starts a provider, says its port, and
/// serves until its standard input closes. Does nothing in a plain `cargo test`.
#[test]
fn child_provider_under_a_low_fd_limit() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = 128;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    let p = MockProvider::start(Config::default()).unwrap();
    println!("port {}", p.addr().port());
    std::io::stdout().flush().unwrap();
    let mut rest = String::new();
    let _ = std::io::stdin().read_to_string(&mut rest);
}

#[test]
fn slow_clients_beyond_the_fd_limit_do_not_keep_a_normal_client_out() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_provider_under_a_low_fd_limit",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
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
    // Twice as many slowloris connections as the child may open files.
    let slow: Vec<TcpStream> = (0..256)
        .filter_map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.write_all(b"GET / HTTP/1.1\r\nX-Slow: ").ok()?;
            Some(s)
        })
        .collect();
    assert!(slow.len() > 200, "{} connected", slow.len());
    for _ in 0..5 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(
            format!(
                "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    drop(slow);
}
