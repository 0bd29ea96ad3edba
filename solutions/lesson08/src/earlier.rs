//! Lessons 01–06, finished: what this lesson builds on. Lesson 08 writes its
//! own authorization URL and token request (from a provider profile), so
//! those of lessons 03, 04 and 06 are not repeated here.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use labkit::{CallbackError, LabError, Secret};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Lesson 01: the query string's pairs, decoded, in order, repeats kept.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Lesson 03: a fresh `state` for one authorization request: 256 bits from the
/// operating system's secure random source, in base64url (43 characters).
pub fn new_state() -> String {
    // The state ties the answer to this request (RFC 6749 §10.12): an attacker
    // who could guess it could feed us their own code. So: unguessable.
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lesson 03: waits on `/callback` for the browser to come back with our `state`,
/// and returns the code. Other paths get 404, a wrong state gets an error page,
/// and neither ends the wait; an error from the provider (such as
/// `access_denied`) ends it; so does an answer from another issuer than `iss`
/// (when the provider sends one, RFC 9207), and the deadline.
pub fn wait_for_callback(
    server: &labkit::Listener,
    state: &str,
    iss: Option<&str>,
    deadline: Instant,
) -> Result<Secret, CallbackError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let request = match server.recv_timeout(left) {
            Ok(Some(request)) => request,
            Ok(None) => return Err(CallbackError::TimedOut),
            Err(e) => return Err(CallbackError::Listener(e.to_string())),
        };
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        if path != "/callback" {
            // The browser also asks for /favicon.ico; port scanners ask for anything.
            let _ = request.respond(labkit::page(
                404,
                "Not here",
                "This program only answers on /callback.",
            ));
            continue;
        }
        let pairs = query_pairs(query);
        // A parameter counts only if it comes exactly once.
        let get = |name: &str| {
            let mut values = pairs
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str());
            match (values.next(), values.next()) {
                (Some(v), None) => Some(v),
                _ => None,
            }
        };
        // Check the state before anything else: an answer with another state is
        // not for us (an attacker's, or an old tab's), even if it says "error".
        if get("state") != Some(state) {
            let _ = request.respond(labkit::page(
                400,
                "Not for this program",
                "This answer does not match the request this program made (wrong state), so it was ignored.",
            ));
            continue;
        }
        // Our state, so the answer is for us; but is it from the provider we
        // asked? One that names itself in every answer (RFC 9207) must name
        // itself here too, byte for byte: else another provider's answer, or
        // an attacker's code, reached us (a mix-up), and we stop before its
        // code goes anywhere (RFC 9207 §2.4).
        if let Some(expected) = iss {
            let got = get("iss");
            if got != Some(expected) {
                let _ = request.respond(labkit::page(
                    400,
                    "Answer from another provider",
                    "This answer does not come from the provider this program asked (its iss is wrong or missing), so its code was not used and the program stops. You can close this tab.",
                ));
                return Err(CallbackError::MixUp {
                    expected: expected.to_string(),
                    got: got.map(str::to_string),
                });
            }
        }
        if let Some(error) = get("error") {
            let description = get("error_description").map(str::to_string);
            let page = if error == "access_denied" {
                labkit::notice(
                    "No permission given",
                    "You did not allow access, so the program gets nothing and stops. You can close this tab.",
                )
            } else {
                labkit::notice(
                    "The provider refused the request",
                    &format!(
                        "The provider answered with the error {error:?}. The program stops and says why."
                    ),
                )
            };
            let _ = request.respond(page);
            return Err(match error {
                "access_denied" => CallbackError::Denied { description },
                other => CallbackError::Provider {
                    error: other.to_string(),
                    description,
                },
            });
        }
        let Some(code) = get("code") else {
            let _ = request.respond(labkit::page(
                400,
                "No code",
                "This answer has no code, so it was ignored.",
            ));
            continue;
        };
        // The page must not show the code: it would end up in screenshots and history.
        let _ = request.respond(labkit::page(
            200,
            "Permission received",
            "The program now trades the one-time code for an access token and reads only what you allowed. It never saw your password. You can close this tab.",
        ));
        return Ok(Secret::new(code));
    }
}

/// Lesson 04: `Basic base64(client_id ":" client_secret)`, each part
/// form-encoded first, as RFC 6749 §2.3.1 asks (a secret may contain `:`).
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

/// Lesson 06: binds the redirect listener on 127.0.0.1 and returns it with the
/// redirect URI that names the port it really got (port 0: any free port).
pub fn bind_loopback(port: u16) -> Result<(labkit::Listener, String), LabError> {
    let server = labkit::listen(port)?;
    let port = labkit::port_of(&server);
    Ok((server, format!("http://127.0.0.1:{port}/callback")))
}

/// Lesson 06: a fresh PKCE code verifier: 32 random bytes in base64url, 43
/// characters (RFC 7636 §4.1).
pub fn new_verifier() -> Secret {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// Lesson 06: the S256 code challenge, `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
pub fn code_challenge(verifier: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}
