//! Lesson 06 — PKCE and a safer listener.
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

/// Step 1: binds the redirect listener on 127.0.0.1 and returns it with the
/// redirect URI that names the port it really got. Port 0 asks the system for
/// any free port (RFC 8252 §7.3: the provider accepts any port on loopback).
pub fn bind_loopback(port: u16) -> Result<(labkit::Listener, String), LabError> {
    // TODO: Listen on 127.0.0.1 only (never 0.0.0.0) on `port` (0: any free port),
    //       and return the listener with http://127.0.0.1:PORT/callback naming the
    //       port it really got.
    todo!("Step 1: bind the listener to a free port — see chapter 6 (book/src/lesson06/index.md)")
}

/// Step 2: a fresh PKCE code verifier: 32 random bytes in base64url, so 43
/// characters from the unreserved set `A-Z a-z 0-9 - _` (RFC 7636 §4.1).
pub fn new_verifier() -> Secret {
    // TODO: Like lesson 03's state (see src/earlier.rs), wrapped in a Secret.
    todo!("Step 2: make a code verifier — see chapter 6 (book/src/lesson06/index.md)")
}

/// Step 3: the S256 code challenge: `BASE64URL(SHA256(verifier))`, no padding
/// (RFC 7636 §4.2). Only the challenge leaves the program before the exchange.
pub fn code_challenge(verifier: &Secret) -> String {
    // TODO: BASE64URL(SHA256(the verifier's text)), without padding.
    todo!("Step 3: derive the S256 challenge — see chapter 6 (book/src/lesson06/index.md)")
}

/// Step 4: lesson 03's authorization URL with the PKCE challenge added
/// (RFC 7636 §4.3).
pub fn authorization_url(
    client: &Client,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
) -> String {
    // TODO: Lesson 03's five parameters, then code_challenge and
    //       code_challenge_method=S256 (never "plain": the verifier must stay here).
    todo!(
        "Step 4: send the challenge with the request — see chapter 6 (book/src/lesson06/index.md)"
    )
}

/// Step 5: lesson 04's exchange, with the verifier (RFC 7636 §4.5). The
/// provider hashes it and compares with the challenge it saw: whoever stole the
/// code on its way through the browser does not have the verifier.
pub fn exchange_code(
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<Tokens, TokenError> {
    // TODO: Lesson 04's exchange with one more field, code_verifier. src/earlier.rs
    //       already sends any grant with this client's authentication.
    todo!("Step 5: send the verifier with the code — see chapter 6 (book/src/lesson06/index.md)")
}
