//! Lesson 12 — Defend your client.
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
    // TODO: Refuse metadata whose `issuer` is not exactly `issuer` (RFC 8414 §3.3),
    //       with a LabError saying so. Else a PendingFlow with that issuer, the
    //       metadata's two endpoints, client_id, redirect_uri, and a fresh state
    //       and verifier (new_state, new_verifier: src/earlier.rs).
    todo!("Step 1: bind the flow to its provider — see chapter 12 (book/src/lesson12/index.md)")
}

/// Step 2: what a request to the listener is, from its target (path and
/// query): the answer to this flow (a code), a refusal, a mix-up, or nothing
/// for us.
pub fn check_callback(target: &str, flow: &PendingFlow) -> Verdict {
    // TODO: In this order: a path other than the redirect URI's: NotHere. Read
    //       each parameter only if it comes exactly once. No state, or not
    //       flow.state: Forged. An iss that is not flow.issuer (or none): MixUp.
    //       An error: Refused (access_denied is Denied). Then the code, or Forged.
    todo!("Step 2: check the callback in full — see chapter 12 (book/src/lesson12/index.md)")
}

/// Step 3: true when a request's `Host` header names the listener as the
/// redirect URI does (`127.0.0.1:PORT`). A page on another site whose name an
/// attacker points at 127.0.0.1 (DNS rebinding) sends its own name there.
pub fn host_is_ours(host: Option<&str>, redirect_uri: &str) -> bool {
    // TODO: True only when `host` is the redirect URI's host and port, as
    //       "127.0.0.1:PORT" (compare without regard to case); false for None.
    todo!("Step 3: refuse a foreign Host — see chapter 12 (book/src/lesson12/index.md)")
}

/// Step 4: the page the browser gets for each verdict. The address bar of
/// that page holds the code, so the page loads nothing and links nowhere
/// (a `Referer` would carry the code there: RFC 9700 §4.2), is not cached,
/// never shows the code, and never redirects.
pub fn page_for(verdict: &Verdict) -> Page {
    // TODO: One page per verdict: Code 200, NotHere 404, Forged 400, MixUp and
    //       Refused a notice. Never the code, no link, nothing loaded from
    //       elsewhere, Referrer-Policy: no-referrer, no redirect. labkit::page
    //       and labkit::notice make such pages.
    todo!(
        "Step 4: answer the browser without leaking — see chapter 12 (book/src/lesson12/index.md)"
    )
}

/// Step 5: the HTTP client for every request to a provider: statuses are
/// read, not raised; no redirect is followed (it would carry the code and
/// the verifier elsewhere: RFC 9700 §4.12); and the whole exchange, answer
/// included, ends by `deadline`, however slowly the server answers.
pub fn provider_agent(deadline: Duration) -> ureq::Agent {
    // TODO: A ureq::Agent that reads statuses instead of raising them, follows
    //       no redirect, and gives up on the whole exchange after `deadline`.
    todo!("Step 5: limit time and redirects — see chapter 12 (book/src/lesson12/index.md)")
}

/// Step 6: an answer's body, at most [`MAX_ANSWER`] bytes: an honest token
/// response is a few hundred, and a server that sends a megabyte means harm.
pub fn read_answer(response: &mut ureq::http::Response<ureq::Body>) -> Result<String, LabError> {
    // TODO: Read the body as text, but no more than MAX_ANSWER bytes; over
    //       that, a LabError saying the answer is too large (and why you stopped).
    todo!("Step 6: limit the size of every answer — see chapter 12 (book/src/lesson12/index.md)")
}
