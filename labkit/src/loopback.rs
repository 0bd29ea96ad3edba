//! The redirect listener with RFC 8252 §7.3's fallback: 127.0.0.1 first, and
//! `[::1]` on a machine where IPv4 loopback is not available.

use crate::{LabError, ListenLimits, Listener};

/// Binds `port` (0: any free one) on 127.0.0.1 like [`crate::listen`], or, when
/// IPv4 loopback cannot be used at all, on `[::1]` (RFC 8252 §7.3: a client may
/// listen on IPv6 loopback when IPv4 is unavailable). Returns the server and
/// the host to write in the redirect URI, `127.0.0.1` or `[::1]`. A port in
/// use on 127.0.0.1 is not "unavailable": that error comes back as it is.
pub fn listen_loopback(port: u16) -> Result<(Listener, &'static str), LabError> {
    listen_loopback_with(port, crate::listen)
}

/// [`listen_loopback`] with the IPv4 attempt given, so the fallback is testable.
pub fn listen_loopback_with(
    port: u16,
    ipv4: impl FnOnce(u16) -> Result<Listener, LabError>,
) -> Result<(Listener, &'static str), LabError> {
    let refused = match ipv4(port) {
        Ok(server) => return Ok((server, "127.0.0.1")),
        Err(e) if e.0.contains("in use") => return Err(e),
        Err(e) => e,
    };
    let ipv6 = std::net::TcpListener::bind(("::1", port))
        .and_then(|bound| Listener::start(bound, ListenLimits::default()));
    match ipv6 {
        Ok(server) => Ok((server, "[::1]")),
        // Neither: report the IPv4 error, the usual case people can act on.
        Err(_) => Err(refused),
    }
}
