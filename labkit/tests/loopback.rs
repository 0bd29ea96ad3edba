//! RFC 8252 §7.3: the loopback listener falls back to IPv6 when IPv4 loopback
//! is unavailable, and the redirect URI then names `[::1]`.

use labkit::{LabError, listen_loopback, listen_loopback_with};

fn ipv6_loopback_works() -> bool {
    std::net::TcpListener::bind(("::1", 0)).is_ok()
}

#[test]
fn ipv4_first() {
    let (server, host) = listen_loopback(0).expect("127.0.0.1 is there");
    assert_eq!(host, "127.0.0.1");
    assert!(server.server_addr().to_ip().unwrap().ip().is_loopback());
}

#[test]
fn without_ipv4_it_listens_on_ipv6_loopback() {
    if !ipv6_loopback_works() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let no_ipv4 = |_| {
        Err(LabError(
            "cannot listen on 127.0.0.1:0: address not available".into(),
        ))
    };
    let (server, host) = listen_loopback_with(0, no_ipv4).expect("[::1] is there");
    assert_eq!(
        host, "[::1]",
        "the redirect URI must name the address really listened on"
    );
    let addr = server.server_addr().to_ip().unwrap();
    assert_eq!(
        addr.ip(),
        std::net::Ipv6Addr::LOCALHOST,
        "loopback only, never ::"
    );
}

#[test]
fn a_port_in_use_is_not_a_missing_ipv4() {
    let in_use = |_| {
        Err(LabError(
            "port 8000 is in use: stop the other program or use --port 0".into(),
        ))
    };
    let error = listen_loopback_with(0, in_use)
        .err()
        .expect("the IPv4 error comes back");
    assert!(error.0.contains("in use"), "{}", error.0);
}
