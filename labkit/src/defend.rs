//! Lesson 12's types: what a provider says about itself, an authorization in
//! progress bound to the provider it began with, and what one request to the
//! listener turns out to be; and the simulated person of `--simulate-user`,
//! who follows redirects the way a browser does (so the lab's attacker can
//! send them on to another provider).

use serde::Deserialize;

use crate::{CallbackError, LabError, Secret};

/// The most this client reads of any one answer from a provider: a token
/// response is a few hundred bytes, metadata a few kilobytes.
pub const MAX_ANSWER: u64 = 64 * 1024;

/// A page for the browser, as [`crate::page`] and [`crate::notice`] make them.
pub type Page = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

/// RFC 8414 §2: what an authorization server says about itself, the fields
/// this client uses.
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// RFC 9207 §3: the provider adds `iss` to every authorization answer.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// One authorization in progress, bound to the provider it began with: the
/// answer must come from that issuer, and the code goes to that provider's
/// token endpoint and nowhere else (RFC 9700 §4.4.2).
#[derive(Clone, Debug)]
pub struct PendingFlow {
    /// The issuer this flow was started with: the `iss` the answer must carry.
    pub issuer: String,
    pub authorization_endpoint: String,
    /// Where the code goes, and nowhere else.
    pub token_endpoint: String,
    pub client_id: String,
    /// `http://127.0.0.1:PORT/callback`, the listener's own address.
    pub redirect_uri: String,
    /// Unguessable; the answer must carry it back (RFC 6749 §10.12).
    pub state: String,
    /// PKCE: stays here until the token request (RFC 7636 §4.1).
    pub verifier: Secret,
}

/// What one request to the listener turns out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The answer to this flow's request: trade the code.
    Code(Secret),
    /// Another path (`/favicon.ico`, a port scanner): answer 404, keep waiting.
    NotHere,
    /// On the callback path, but not an answer to this flow's request: a
    /// wrong, missing or repeated `state`, or no code (RFC 6749 §10.12,
    /// RFC 9700 §4.7). Answer 400, keep waiting; the text says why.
    Forged(String),
    /// This flow's state, but another issuer's `iss`, or none: a mix-up.
    /// Stop, before any token request, with [`CallbackError::MixUp`]
    /// (RFC 9207 §2.4, RFC 9700 §4.4).
    MixUp { got: Option<String> },
    /// The provider's `error` answer (the person said no, or the request was
    /// refused): stop (RFC 6749 §4.1.2.1).
    Refused(CallbackError),
}

/// What `--simulate-user` does with the authorization URL, in the background:
/// a person at a browser, who logs in as `username` and approves, and lets the
/// browser carry the answer to the listener. When an authorization endpoint
/// sends the browser on to another one (as the lab's attacker does), the
/// person follows, at most three times.
pub fn simulate_user(username: &str, url: &str) -> Result<(), LabError> {
    let user = mock_provider::builtin_users()
        .into_iter()
        .find(|u| u.username == username)
        .ok_or_else(|| {
            LabError(format!(
                "--simulate-user {username}: no such lab user; use alice or bob"
            ))
        })?;
    let owner = mock_provider::ResourceOwner::new(&user.username, &user.password);
    let mut url = url.to_string();
    for _ in 0..3 {
        let redirect = owner.approve(&url)?;
        // Sent on to another authorization page (as the lab's attacker
        // does), not back to the program: the browser follows.
        if redirect.param("code").is_none() && redirect.param("error").is_none() {
            url = redirect.location;
            continue;
        }
        redirect.follow()?;
        return Ok(());
    }
    Err(LabError(format!(
        "the simulated user was sent from one authorization page to another more than three times, last to {url}"
    )))
}

/// Sends the person to `url` (lesson 12's program): with `simulate_user`,
/// that lab user approves in the background ([`simulate_user`]); else the
/// browser opens it. The URL is printed before, either way.
pub fn open_browser(simulate: Option<&str>, url: &str) {
    match simulate {
        Some(username) => {
            println!(
                "  (--simulate-user: {username} approves in the background; no browser is opened)"
            );
            let (username, url) = (username.to_string(), url.to_string());
            std::thread::spawn(move || {
                if let Err(e) = simulate_user(&username, &url) {
                    eprintln!("  simulated user: {}", e.0);
                }
            });
        }
        None => match webbrowser::open(url) {
            Ok(()) => println!(
                "  (opened in your browser; if nothing appeared, open the URL above yourself)"
            ),
            Err(_) => println!(
                "  (could not open a browser here: open the URL above yourself; still waiting)"
            ),
        },
    }
}
