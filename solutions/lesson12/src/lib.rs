//! Lesson 12 — Defend your client: the reference answer.
//!
//! The lab attacks this program (RFC 9700 §4): a second, evil provider, a
//! thief with a stolen code, a page on another site, answers that never end.
//! Each function below is one defence; `src/given.rs` runs the flow through
//! them, so nothing reaches the program without passing one.

use std::time::Duration;

use labkit::defend::{MAX_ANSWER, Metadata, Page, PendingFlow, Verdict};
use labkit::{CallbackError, LabError, Secret};

mod earlier;
mod given;
pub use earlier::*;
pub use given::*;

// ANCHOR: begin
/// Step 1: starts a flow with the provider whose issuer identifier is
/// `issuer`, from the metadata read at that address. The flow remembers that
/// issuer and that provider's token endpoint, so the answer can be checked
/// against it and the code goes nowhere else (RFC 9700 §4.4.2).
pub fn begin(
    issuer: &str,
    metadata: &Metadata,
    client_id: &str,
    redirect_uri: &str,
) -> Result<PendingFlow, LabError> {
    // RFC 8414 §3.3: metadata that names another issuer than the one it was
    // read from is an impostor's: it could send the code to its own token
    // endpoint while the answer carries the real provider's iss.
    if metadata.issuer != issuer {
        return Err(LabError(format!(
            "the metadata read from {issuer} says it is {:?}, so it was not used (RFC 8414 §3.3): check --issuer",
            metadata.issuer
        )));
    }
    Ok(PendingFlow {
        issuer: issuer.to_string(),
        authorization_endpoint: metadata.authorization_endpoint.clone(),
        token_endpoint: metadata.token_endpoint.clone(),
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: new_state(),
        verifier: new_verifier(),
    })
}
// ANCHOR_END: begin

// ANCHOR: check_callback
/// Step 2: what a request to the listener is, from its target (path and
/// query): the answer to this flow (a code), a refusal, a mix-up, or nothing
/// for us.
pub fn check_callback(target: &str, flow: &PendingFlow) -> Verdict {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let ours = url::Url::parse(&flow.redirect_uri).map_or(String::new(), |u| u.path().into());
    if path != ours {
        return Verdict::NotHere;
    }
    let pairs = query_pairs(query);
    // RFC 6749 §3.1: a parameter sent twice counts as not sent at all.
    let once = |name: &str| {
        let mut values = pairs.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some((_, value)), None) => Some(value.as_str()),
            _ => None,
        }
    };
    // RFC 6749 §10.12, RFC 9700 §4.7: without this flow's state it is not an
    // answer to our request (another tab's, or an attacker's): ignore it.
    if once("state") != Some(flow.state.as_str()) {
        return Verdict::Forged("its state is not this flow's".into());
    }
    // RFC 9207 §2.4: our state, but from another issuer (or none said): the
    // browser went to another provider than the one we asked. Stop.
    match once("iss") {
        Some(iss) if iss == flow.issuer => {}
        got => {
            return Verdict::MixUp {
                got: got.map(str::to_string),
            };
        }
    }
    if let Some(error) = once("error") {
        let description = once("error_description").map(str::to_string);
        return Verdict::Refused(match error {
            "access_denied" => CallbackError::Denied { description },
            other => CallbackError::Provider {
                error: other.to_string(),
                description,
            },
        });
    }
    match once("code") {
        Some(code) => Verdict::Code(Secret::new(code)),
        None => Verdict::Forged("it carries no code".into()),
    }
}
// ANCHOR_END: check_callback

// ANCHOR: host_is_ours
/// Step 3: true when a request's `Host` header names the listener as the
/// redirect URI does (`127.0.0.1:PORT`). A page on another site whose name an
/// attacker points at 127.0.0.1 (DNS rebinding) sends its own name there.
pub fn host_is_ours(host: Option<&str>, redirect_uri: &str) -> bool {
    let Ok(uri) = url::Url::parse(redirect_uri) else {
        return false;
    };
    let ours = format!(
        "{}:{}",
        uri.host_str().unwrap_or(""),
        uri.port_or_known_default().unwrap_or(0)
    );
    host.is_some_and(|host| host.eq_ignore_ascii_case(&ours))
}
// ANCHOR_END: host_is_ours

// ANCHOR: page_for
/// Step 4: the page the browser gets for each verdict. The address bar of
/// that page holds the code, so the page loads nothing and links nowhere
/// (a `Referer` would carry the code there: RFC 9700 §4.2), is not cached,
/// never shows the code, and never redirects.
pub fn page_for(verdict: &Verdict) -> Page {
    // labkit's pages send `Referrer-Policy: no-referrer`, `Cache-Control:
    // no-store` and a policy that lets them load nothing from anywhere.
    match verdict {
        Verdict::Code(_) => labkit::page(
            200,
            "Permission received",
            "The program now trades the one-time code for an access token. You can close this tab.",
        ),
        Verdict::NotHere => {
            labkit::page(404, "Not here", "This program only answers on /callback.")
        }
        Verdict::Forged(why) => labkit::page(
            400,
            "Not for this program",
            &format!(
                "This answer does not belong to the request this program made ({why}), so it was ignored."
            ),
        ),
        Verdict::MixUp { .. } => labkit::notice(
            "Another provider's answer",
            "This answer came from another provider than the one the program asked, so the program stopped without using it. You can close this tab.",
        ),
        Verdict::Refused(CallbackError::Denied { .. }) => labkit::notice(
            "No permission given",
            "You did not allow access, so the program gets nothing and stops. You can close this tab.",
        ),
        Verdict::Refused(_) => labkit::notice(
            "The provider refused the request",
            "The provider answered with an error. The program stops and says why.",
        ),
    }
}
// ANCHOR_END: page_for

// ANCHOR: limits
/// Step 5: the HTTP client for every request to a provider: statuses are
/// read, not raised; no redirect is followed (it would carry the code and
/// the verifier elsewhere: RFC 9700 §4.12); and the whole exchange, answer
/// included, ends by `deadline`, however slowly the server answers.
pub fn provider_agent(deadline: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(deadline))
        .build()
        .into()
}

/// Step 6: an answer's body, at most [`MAX_ANSWER`] bytes: an honest token
/// response is a few hundred, and a server that sends a megabyte means harm.
pub fn read_answer(response: &mut ureq::http::Response<ureq::Body>) -> Result<String, LabError> {
    response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_string()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => LabError(format!(
                "the provider's answer is over {} KiB, far more than an honest answer: stopped reading; is --issuer the provider you meant?",
                MAX_ANSWER / 1024
            )),
            ureq::Error::Timeout(_) => {
                LabError("the provider's answer did not end in time: stopped waiting; is --issuer the provider you meant?".into())
            }
            other => LabError(format!("could not read the provider's answer: {other}")),
        })
}
// ANCHOR_END: limits
