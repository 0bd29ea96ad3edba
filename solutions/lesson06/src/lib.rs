//! Lesson 06 — PKCE and a safer listener: the reference answer.
//!
//! A program on someone's laptop cannot keep a client secret: anyone can read
//! it out of the binary. So it runs as a *public* client and proves, with PKCE
//! (RFC 7636), that the code it trades is the one *it* asked for. And its
//! listener takes whatever free port the system gives, on 127.0.0.1 only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{Client, LabError, Secret, TokenError, Tokens};
use sha2::{Digest, Sha256};

mod earlier;
pub use earlier::*;

// ANCHOR: bind_loopback
/// Step 1: binds the redirect listener on 127.0.0.1 and returns it with the
/// redirect URI that names the port it really got. Port 0 asks the system for
/// any free port (RFC 8252 §7.3: the provider accepts any port on loopback).
pub fn bind_loopback(port: u16) -> Result<(labkit::Listener, String), LabError> {
    // 127.0.0.1, not 0.0.0.0: nobody else on the network may call it. And the
    // IP literal, not "localhost", which could resolve elsewhere (RFC 8252 §8.3).
    // Where IPv4 loopback is unavailable, [::1] instead (RFC 8252 §7.3).
    let (server, host) = labkit::listen_loopback(port)?;
    // With port 0 the real port is known only now: read it back.
    let port = labkit::port_of(&server);
    Ok((server, format!("http://{host}:{port}/callback")))
}
// ANCHOR_END: bind_loopback

// ANCHOR: pkce
/// Step 2: a fresh PKCE code verifier: 32 random bytes in base64url, so 43
/// characters from the unreserved set `A-Z a-z 0-9 - _` (RFC 7636 §4.1).
pub fn new_verifier() -> Secret {
    // 256 bits from the operating system: guessing it is hopeless (§7.1).
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// Step 3: the S256 code challenge: `BASE64URL(SHA256(verifier))`, no padding
/// (RFC 7636 §4.2). Only the challenge leaves the program before the exchange.
pub fn code_challenge(verifier: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}
// ANCHOR_END: pkce

// ANCHOR: authorization_url
/// Step 4: lesson 03's authorization URL with the PKCE challenge added
/// (RFC 7636 §4.3).
pub fn authorization_url(
    client: &Client,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    let mut url =
        url::Url::parse(&client.authorize_url).expect("the authorization endpoint is a URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &client.scope)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        // Always S256: "plain" would send the verifier itself through the browser.
        .append_pair("code_challenge_method", "S256");
    url.into()
}
// ANCHOR_END: authorization_url

// ANCHOR: exchange_code
/// Step 5: lesson 04's exchange, with the verifier (RFC 7636 §4.5). The
/// provider hashes it and compares with the challenge it saw: whoever stole the
/// code on its way through the browser does not have the verifier.
pub fn exchange_code(
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<Tokens, TokenError> {
    token_request(
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose()),
        ],
    )
}
// ANCHOR_END: exchange_code
