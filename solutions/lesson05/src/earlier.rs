//! Lessons 01–04, finished: what this lesson builds on.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use labkit::{CallbackError, Client, ErrorBody, Secret, TokenError, Tokens};

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

/// Lesson 04: sends the code to the token endpoint and returns the tokens, or a
/// [`TokenError`] saying exactly what went wrong (RFC 6749 §4.1.3, §5.1, §5.2).
pub fn exchange_code(
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
) -> Result<Tokens, TokenError> {
    // ureq 3 turns 4xx/5xx into errors by default; here the error *bodies* are
    // the information we need (§5.2), so statuses are read, not raised.
    // Redirects are not followed: a token endpoint that redirects is misconfigured,
    // and following it would send our credentials elsewhere.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        // The same redirect URI as in the authorization request: the provider checks it.
        ("redirect_uri", redirect_uri),
    ];
    // Some providers answer in another format unless asked for JSON.
    let mut request = agent
        .post(&client.token_url)
        .header("Accept", "application/json");
    match &client.client_secret {
        // A confidential client proves who it is with HTTP Basic (§2.3.1)…
        Some(secret) => {
            request = request.header(
                "Authorization",
                &basic_auth(&client.client_id, secret.expose()),
            );
        }
        // …a public client has no secret and just names itself.
        None => form.push(("client_id", &client.client_id)),
    }
    let mut response = request
        .send_form(form)
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let not_json = || TokenError::NotJson {
        status,
        body_start: labkit::body_start(&body),
    };
    match status {
        200 => {
            let tokens: Tokens = serde_json::from_str(&body).map_err(|_| not_json())?;
            // §7.1: never use a token of a type we do not understand.
            if !tokens.token_type.eq_ignore_ascii_case("bearer") {
                return Err(TokenError::UnsupportedTokenType(tokens.token_type));
            }
            Ok(tokens)
        }
        400..=499 => {
            let error: ErrorBody = serde_json::from_str(&body).map_err(|_| not_json())?;
            Err(TokenError::Rejected {
                status,
                code: error.error.as_str().into(),
                description: error.error_description,
            })
        }
        500..=599 => Err(TokenError::ServerError { status }),
        _ => Err(TokenError::UnexpectedStatus { status }),
    }
}

/// `Basic base64(client_id ":" client_secret)`, each part form-encoded first, as
/// RFC 6749 §2.3.1 asks (a secret may contain `:`).
fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}
