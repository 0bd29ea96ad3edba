//! Lessons 01–03, finished: what this lesson builds on.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{CallbackError, Client, Secret};

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

/// Lesson 03: the URL that asks the provider for permission (RFC 6749 §4.1.1).
pub fn authorization_url(client: &Client, redirect_uri: &str, state: &str) -> String {
    // Parse, then append: this keeps any query the endpoint already has
    // (§3.1 says it must be kept) and encodes every value correctly.
    let mut url =
        url::Url::parse(&client.authorize_url).expect("the authorization endpoint is a URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &client.scope)
        .append_pair("state", state);
    url.into()
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
