//! The rest of the program, given: reading the provider's metadata, the
//! authorization URL, the wait for the browser, the token request, and the
//! whole flow. Each uses the defences of `src/lib.rs`: nothing here reads an
//! answer or a callback but through them.

use std::io::Write;
use std::time::{Duration, Instant};

use labkit::defend::{Metadata, PendingFlow, Verdict};
use labkit::{CallbackError, ErrorBody, LabError, Secret, TokenError, Tokens};

use crate::{
    begin, bind_loopback, check_callback, code_challenge, host_is_ours, page_for, provider_agent,
    read_answer,
};

/// RFC 8414 §3: the provider's metadata, read from
/// `{issuer}/.well-known/oauth-authorization-server`, within the limits of
/// every answer (`provider_agent`, `read_answer`).
pub fn discover(issuer: &str, deadline: Duration) -> Result<Metadata, LabError> {
    let url = format!(
        "{}/.well-known/oauth-authorization-server",
        issuer.trim_end_matches('/')
    );
    let mut response = provider_agent(deadline)
        .get(&url)
        .call()
        .map_err(|e| LabError(format!("could not read {url}: {e}; check --issuer")))?;
    let status = response.status().as_u16();
    let body = read_answer(&mut response)?;
    if status != 200 {
        return Err(LabError(format!(
            "{url} answered HTTP {status} (redirects are not followed): check --issuer"
        )));
    }
    serde_json::from_str(&body).map_err(|e| {
        LabError(format!(
            "{url} is not authorization server metadata ({e}): check --issuer"
        ))
    })
}

/// Lesson 06's authorization URL, from the flow: its endpoint, its redirect
/// URI, its state, and the challenge of its verifier (RFC 7636 §4.3).
pub fn authorization_url(flow: &PendingFlow, scope: &str) -> Result<String, LabError> {
    let mut url = url::Url::parse(&flow.authorization_endpoint).map_err(|e| {
        LabError(format!(
            "the authorization endpoint {:?} is not a URL ({e}): check --issuer",
            flow.authorization_endpoint
        ))
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &flow.client_id)
        .append_pair("redirect_uri", &flow.redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", &flow.state)
        .append_pair("code_challenge", &code_challenge(&flow.verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

/// Waits for the browser to come back with this flow's answer. Each request is
/// checked: its `Host` (else 421), then the callback (`check_callback`), and
/// answered with `page_for`. Forged answers and other paths do not end the
/// wait; a mix-up and the provider's refusal do; so does the deadline.
pub fn wait_for_code(
    server: &labkit::Listener,
    flow: &PendingFlow,
    deadline: Instant,
) -> Result<Secret, LabError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let request = match server.recv_timeout(left) {
            Ok(Some(request)) => request,
            Ok(None) => {
                return Err(LabError(
                    "nobody came back from the browser in time: open the URL printed above, or use a longer --timeout".into(),
                ));
            }
            Err(e) => return Err(LabError(format!("the local listener failed: {e}"))),
        };
        if !host_is_ours(request.header("host"), &flow.redirect_uri) {
            // A page on another site, whose name an attacker points at
            // 127.0.0.1 (DNS rebinding), gets nothing, not even our 404.
            let _ = request.respond(labkit::page(
                421,
                "Wrong address",
                "This program answers only at the address it gave the provider.",
            ));
            continue;
        }
        let verdict = check_callback(request.url(), flow);
        let _ = request.respond(page_for(&verdict));
        match verdict {
            Verdict::Code(code) => return Ok(code),
            Verdict::NotHere | Verdict::Forged(_) => continue,
            Verdict::MixUp { got } => {
                let expected = flow.issuer.clone();
                return Err(CallbackError::MixUp { expected, got }.into());
            }
            Verdict::Refused(e) => return Err(e.into()),
        }
    }
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.5, as a public client: the code and the
/// verifier go to the flow's own token endpoint, and the answer is read within
/// the limits (`provider_agent`, `read_answer`).
pub fn exchange(flow: &PendingFlow, code: &Secret, deadline: Duration) -> Result<Tokens, LabError> {
    let mut response = provider_agent(deadline)
        .post(&flow.token_endpoint)
        .header("Accept", "application/json")
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", flow.redirect_uri.as_str()),
            ("code_verifier", flow.verifier.expose()),
            ("client_id", flow.client_id.as_str()),
        ])
        .map_err(|e| {
            LabError(format!(
                "the token request to {} failed: {e}",
                flow.token_endpoint
            ))
        })?;
    let status = response.status().as_u16();
    let body = read_answer(&mut response)?;
    let not_json = || TokenError::NotJson {
        status,
        body_start: labkit::body_start(&body),
    };
    let error = match status {
        200 => {
            let tokens: Tokens = serde_json::from_str(&body).map_err(|_| not_json())?;
            if !tokens.token_type.eq_ignore_ascii_case("bearer") {
                return Err(TokenError::UnsupportedTokenType(tokens.token_type).into());
            }
            return Ok(tokens);
        }
        300..=399 => {
            return Err(LabError(format!(
                "the token endpoint answered HTTP {status}, a redirect, which this program does not follow (RFC 9700 §4.12): is the provider the one you meant?"
            )));
        }
        400..=499 => {
            let error: ErrorBody = serde_json::from_str(&body).map_err(|_| not_json())?;
            TokenError::Rejected {
                status,
                code: error.error.as_str().into(),
                description: error.error_description,
            }
        }
        500..=599 => TokenError::ServerError { status },
        _ => TokenError::UnexpectedStatus { status },
    };
    Err(error.into())
}

/// What the program is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The provider's issuer identifier, e.g. `http://127.0.0.1:9000`.
    pub issuer: String,
    pub client_id: String,
    pub scope: String,
    /// Port for the listener; 0 for any free one.
    pub port: u16,
    /// How long to wait for the browser.
    pub wait: Duration,
    /// The most any one answer from a provider may take.
    pub answer_deadline: Duration,
}

/// The whole flow: metadata, listener, the browser (`open` gets the
/// authorization URL once the listener is bound), the answer, the tokens.
/// Progress goes to `out`; no secret is written whole.
pub fn run(
    options: &Options,
    open: impl FnOnce(&str),
    out: &mut dyn Write,
) -> Result<Tokens, LabError> {
    let say = |out: &mut dyn Write, line: String| {
        let _ = writeln!(out, "{line}");
    };
    say(
        out,
        format!("[1/5] Reading the metadata of {}", options.issuer),
    );
    let metadata = discover(&options.issuer, options.answer_deadline)?;
    if !metadata.authorization_response_iss_parameter_supported {
        return Err(LabError(format!(
            "{} does not say it sends iss with its answers (RFC 9207 §3), so this program could not tell its answers from another provider's: use a provider that does",
            options.issuer
        )));
    }
    let (server, redirect_uri) = bind_loopback(options.port)?;
    say(out, format!("[2/5] Listening on {redirect_uri}"));
    let flow = begin(
        &options.issuer,
        &metadata,
        &options.client_id,
        &redirect_uri,
    )?;
    let url = authorization_url(&flow, &options.scope)?;
    say(out, "[3/5] Asking for permission:".into());
    say(out, format!("  {url}"));
    open(&url);
    say(
        out,
        format!("[4/5] Waiting for the browser to come back to {redirect_uri}"),
    );
    let code = wait_for_code(&server, &flow, Instant::now() + options.wait)?;
    say(
        out,
        format!(
            "[5/5] Trading the code ({code}) and the verifier ({}) at {}",
            flow.verifier, flow.token_endpoint
        ),
    );
    let tokens = exchange(&flow, &code, options.answer_deadline)?;
    say(
        out,
        format!(
            "Got an access token ({}) from {}",
            tokens.access_token, flow.issuer
        ),
    );
    Ok(tokens)
}
