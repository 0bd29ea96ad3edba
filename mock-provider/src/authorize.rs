//! The authorization endpoint: RFC 6749 §4.1.1–4.1.2, PKCE (RFC 7636 §4.3–4.4),
//! loopback redirects (RFC 8252 §7.3) and the `iss` response parameter (RFC 9207).
//!
//! `GET /authorize` checks the request and shows the login + consent page (or, with
//! auto-approve, answers at once); `POST /authorize` is that page's form.
//!
//! The order of checks is the RFC's: until the client and its redirect URI are
//! known to be good, errors are shown to the person as a page and never sent to
//! the redirect URI (§4.1.2.1); after that, errors go back to the client with
//! `error`, `state` and `iss` (§4.1.2.1, RFC 9207 §2).

use url::Url;

use crate::config::{DEFAULT_SCOPE, Scopes};
use crate::endpoint::{description_text, form_body};
use crate::http::{Request, Response};
use crate::pages::{self, Consent};
use crate::params::Params;
use crate::secrets::shorten;
use crate::state::App;
use crate::store::{CodeDetails, FlowId, Pending};
use crate::trace::Step;

/// How long a consent page may wait for its form.
const PENDING_TTL_MS: u64 = 10 * 60 * 1000;

/// RFC 6749 §3.1.2.3 (simple string comparison) and RFC 8252 §7.3 (a loopback
/// redirect URI may use any port): true when `requested` is `registered`, but
/// for the port of a loopback URI.
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    match (
        without_loopback_port(registered),
        without_loopback_port(requested),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// For `http://127.0.0.1:PORT/rest`, `http://[::1]:PORT/rest` or
/// `http://localhost:PORT/rest`, the URI without `:PORT` (a valid port); `None`
/// for anything that is not such a loopback URI.
fn without_loopback_port(uri: &str) -> Option<String> {
    for host in ["http://127.0.0.1", "http://[::1]", "http://localhost"] {
        let Some(rest) = uri.strip_prefix(host) else {
            continue;
        };
        if rest.is_empty() || rest.starts_with('/') {
            return Some(uri.to_string());
        }
        let after = rest.strip_prefix(':')?;
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        // A port as a browser writes it: no leading zero, 1 to 65535.
        let port_ok = (1..=5).contains(&digits)
            && !after.starts_with('0')
            && after[..digits]
                .parse::<u32>()
                .is_ok_and(|p| (1..=65535).contains(&p));
        let tail = &after[digits..];
        if port_ok && (tail.is_empty() || tail.starts_with('/')) {
            return Some(format!("{host}{tail}"));
        }
        return None;
    }
    None
}

/// An error to send back to the client's redirect URI (RFC 6749 §4.1.2.1).
struct Refusal {
    error: &'static str,
    description: String,
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        error,
        description: description.into(),
    }
}

/// A request whose client and redirect URI are known to be good.
struct Checked {
    client: usize,
    redirect_uri: String,
    /// False when the request left it out and the one registered URI is used.
    redirect_uri_sent: bool,
    state: Option<String>,
}

/// `redirect_uri` plus `extra` parameters, keeping the registered URI's own query
/// (RFC 6749 §3.1.2); `iss` is added to every answer (RFC 9207 §2).
fn redirect_to(
    app: &App,
    redirect_uri: &str,
    extra: &[(&str, &str)],
    status: u16,
    step: &mut Step,
) -> Response {
    let mut url = Url::parse(redirect_uri).expect("registered redirect URIs are absolute URLs");
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        query.append_pair("iss", &app.issuer);
    }
    // The inspector shows this leg (browser → client) although the provider never sees it.
    let shown = extra
        .iter()
        .map(|(name, value)| match *name {
            "code" | "state" => (name.to_string(), shorten(value)),
            _ => (name.to_string(), value.to_string()),
        })
        .chain([("iss".to_string(), app.issuer.clone())])
        .collect();
    step.redirect(redirect_uri, shown);
    Response::new(
        status,
        "text/plain; charset=utf-8",
        format!("Redirecting to {}\n", url.as_str()),
    )
    .with_header("Location", url.as_str())
    .with_header("Cache-Control", "no-store")
    .with_header("Referrer-Policy", "no-referrer")
}

fn redirect_error(
    app: &App,
    checked: &Checked,
    refusal: &Refusal,
    status: u16,
    step: &mut Step,
) -> Response {
    let description = description_text(&refusal.description);
    let mut extra = vec![
        ("error", refusal.error),
        ("error_description", description.as_str()),
    ];
    if let Some(state) = &checked.state {
        extra.push(("state", state));
    }
    step.outcome = format!(
        "{}: {}; redirecting to {}",
        refusal.error, refusal.description, checked.redirect_uri
    );
    redirect_to(app, &checked.redirect_uri, &extra, status, step)
}

fn error_page(status: u16, problem: String, step: &mut Step) -> Response {
    step.outcome = format!("error page, no redirect: {problem}");
    pages::error(
        status,
        &problem,
        "Nothing was sent back to the application. If you are its developer, fix the authorization request and try again.",
    )
}

/// RFC 6749 §4.1.2.1: client_id and redirect_uri first; a problem with either is
/// shown here, never redirected.
fn check_client(app: &App, params: &Params) -> Result<Checked, String> {
    if let Some(name) = params.first_repeated(&["client_id", "redirect_uri"]) {
        return Err(format!("{name} is sent more than once (RFC 6749 §3.1)"));
    }
    let client_id = params
        .get("client_id")
        .ok()
        .flatten()
        .ok_or("the request has no client_id: the application must say who it is")?;
    let client = app
        .client_index(client_id)
        .ok_or_else(|| format!("no application is registered with client_id {client_id:?}"))?;
    let registered = &app.config.clients[client].redirect_uris;
    let redirect_uri_sent = params.get("redirect_uri").ok().flatten().is_some();
    let redirect_uri = match params.get("redirect_uri").ok().flatten() {
        Some(uri) => {
            if !registered.iter().any(|r| redirect_uri_matches(r, uri)) {
                return Err(format!(
                    "redirect_uri {uri:?} is not registered for {client_id} (registered: {})",
                    registered.join(", ")
                ));
            }
            if Url::parse(uri).is_err() {
                return Err(format!("redirect_uri {uri:?} is not an absolute URL"));
            }
            uri.to_string()
        }
        // §3.1.2.3: it may be left out only when exactly one URI is registered.
        None if registered.len() == 1 => registered[0].clone(),
        None => {
            return Err(format!(
                "the request has no redirect_uri, and {client_id} has several registered: the application must name one"
            ));
        }
    };
    // After a repeated state, no state can be echoed: send none.
    let state = params.get("state").ok().flatten().map(str::to_string);
    Ok(Checked {
        client,
        redirect_uri,
        redirect_uri_sent,
        state,
    })
}

/// Longest `nonce` accepted: OpenID Connect sets no limit, but it comes back
/// in every ID token, so a client has no reason to send more.
pub const MAX_NONCE_LEN: usize = 255;

/// What a good request asks for.
struct Asked {
    scope: Scopes,
    challenge: Option<String>,
    nonce: Option<String>,
}

/// The rest of the request (RFC 6749 §4.1.1, §3.3; RFC 7636 §4.3; OpenID
/// Connect Core 1.0 §3.1.2.1): response type, scope, PKCE, nonce. A problem
/// here goes back to the client (§4.1.2.1).
fn check_request(app: &App, client: usize, params: &Params) -> Result<Asked, Refusal> {
    if let Some(name) = params.any_repeated() {
        return Err(refuse(
            "invalid_request",
            format!("{name} is sent more than once (RFC 6749 §3.1)"),
        ));
    }
    let get = |name| params.get(name).ok().flatten();
    match get("response_type") {
        None => {
            return Err(refuse(
                "invalid_request",
                "response_type is missing: use response_type=code",
            ));
        }
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("response_type {other:?} is not supported: use code"),
            ));
        }
    }
    let client = &app.config.clients[client];
    let scope = match Scopes::parse(get("scope").unwrap_or(DEFAULT_SCOPE)) {
        Err(unknown) => {
            return Err(refuse(
                "invalid_scope",
                format!("unknown scope {unknown:?}"),
            ));
        }
        Ok(s) if s.is_empty() => return Err(refuse("invalid_scope", "the scope list is empty")),
        Ok(s) if !client.allowed_scopes().contains(s) => {
            return Err(refuse(
                "invalid_scope",
                format!(
                    "{} may ask only for: {}",
                    client.id,
                    client.allowed_scopes()
                ),
            ));
        }
        Ok(s) => s,
    };
    // RFC 7636 §4.3–4.4.1.
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) if client.is_public() => {
            return Err(refuse(
                "invalid_request",
                format!(
                    "{} is a public client: PKCE is required (send code_challenge and code_challenge_method=S256)",
                    client.id
                ),
            ));
        }
        (None, None) => None,
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (Some(_), method) if method != Some("S256") => {
            return Err(refuse(
                "invalid_request",
                format!(
                    "code_challenge_method {:?} is not supported: use S256",
                    method.unwrap_or("plain (the default when it is left out)")
                ),
            ));
        }
        (Some(challenge), _) => {
            // S256 gives 32 bytes, 43 base64url characters without padding.
            let well_formed = challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !well_formed {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge is not an S256 challenge: 43 base64url characters, BASE64URL(SHA256(verifier))",
                ));
            }
            Some(challenge.to_string())
        }
    };
    // OpenID Connect Core 1.0 §3.1.2.1: the nonce comes back in the ID token,
    // binding it to this request (§15.5.2, replay). A public client has no
    // secret to prove the code is its own beyond PKCE; here it must send one.
    let nonce = get("nonce");
    if nonce.is_some_and(|n| n.len() > MAX_NONCE_LEN) {
        return Err(refuse(
            "invalid_request",
            format!("nonce is longer than {MAX_NONCE_LEN} characters: send a shorter random value"),
        ));
    }
    let openid = scope.contains(Scopes::parse("openid").expect("a known scope"));
    if openid && nonce.is_none() && client.is_public() {
        return Err(refuse(
            "invalid_request",
            format!(
                "{} is a public client asking for scope openid: send a nonce, a new random value that the ID token will carry back (OpenID Connect Core 1.0 §3.1.2.1)",
                client.id
            ),
        ));
    }
    Ok(Asked {
        scope,
        challenge,
        nonce: nonce.map(str::to_string),
    })
}

fn describe_request(params: &Params, step: &mut Step) {
    for (name, value) in params.iter() {
        match name {
            "client_id" | "redirect_uri" | "response_type" | "scope" | "code_challenge_method" => {
                step.param(name, value)
            }
            "state" | "code_challenge" | "nonce" => step.param(name, shorten(value)),
            _ => {}
        }
    }
}

/// `GET /authorize` (RFC 6749 §4.1.1).
pub fn get(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "browser".into();
    let params = match Params::parse(req.query.as_deref().unwrap_or("").as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            return error_page(
                400,
                format!("the authorization request cannot be read: {e}"),
                step,
            );
        }
    };
    describe_request(&params, step);
    let checked = match check_client(app, &params) {
        Ok(c) => c,
        Err(problem) => return error_page(400, problem, step),
    };
    let flow = app.store().new_flow();
    step.flow = Some(flow);
    let asked = match check_request(app, checked.client, &params) {
        Ok(ok) => ok,
        Err(refusal) => return redirect_error(app, &checked, &refusal, 302, step),
    };
    // HEAD is a look, not a request (RFC 9110 §9.2.1): no code, no pending form.
    if req.method == "HEAD" {
        step.outcome = "HEAD: the request is valid; nothing was started".into();
        return Response::new(200, "text/html; charset=utf-8", "");
    }
    if let Some(username) = &app.config.auto_approve {
        let user = app
            .user_index(username)
            .expect("auto-approve user is checked at start");
        return approve(app, &checked, user, asked, flow, 302, step);
    }
    let pending = Pending {
        client: checked.client,
        redirect_uri: checked.redirect_uri.clone(),
        redirect_uri_sent: checked.redirect_uri_sent,
        state: checked.state.clone(),
        scope: asked.scope,
        challenge: asked.challenge,
        nonce: asked.nonce,
        flow,
        expires_at: app.now() + PENDING_TTL_MS,
    };
    let request_id = app.store().add_pending(pending);
    step.outcome = "login and consent page shown".into();
    let hint = params.get("login_hint").ok().flatten().unwrap_or("");
    pages::consent(&Consent {
        request_id: &request_id,
        client: &app.config.clients[checked.client],
        scope: asked.scope,
        redirect_uri: &checked.redirect_uri,
        users: &app.config.users,
        error: None,
        username: hint,
    })
}

/// Issues a code and sends the browser back (RFC 6749 §4.1.2, RFC 9207).
/// The user logged in now: the ID token's `auth_time`.
fn approve(
    app: &App,
    checked: &Checked,
    user: usize,
    asked: Asked,
    flow: FlowId,
    status: u16,
    step: &mut Step,
) -> Response {
    let scope = asked.scope;
    let details = CodeDetails {
        client: checked.client,
        user,
        redirect_uri: checked.redirect_uri.clone(),
        redirect_uri_sent: checked.redirect_uri_sent,
        scope,
        challenge: asked.challenge,
        nonce: asked.nonce,
        auth_time: app.now(),
        flow,
    };
    let expires_at = app.now() + app.config.code_ttl.as_millis() as u64;
    let code = app.store().issue_code(details, expires_at);
    step.user = Some(app.config.users[user].username.clone());
    step.outcome = format!(
        "{} approved {}; code {} issued, redirecting to {}",
        app.config.users[user].username,
        scope,
        shorten(&code),
        checked.redirect_uri
    );
    let mut extra = vec![("code", code.as_str())];
    if let Some(state) = &checked.state {
        extra.push(("state", state.as_str()));
    }
    redirect_to(app, &checked.redirect_uri, &extra, status, step)
}

/// `POST /authorize`: the consent page's form (`request_id`, `username`,
/// `password`, `decision`). Redirects use 303 so the browser follows with GET
/// (RFC 9700 §4.12).
pub fn post(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "browser".into();
    let params = match form_body(req) {
        Ok(p) => p,
        Err(problem) => {
            return error_page(
                400,
                format!("the login form cannot be read: {problem}"),
                step,
            );
        }
    };
    let get = |name| params.get(name).ok().flatten();
    let decision = get("decision").unwrap_or("");
    step.param("decision", decision);
    if let Some(username) = get("username") {
        step.param("username", app.shown_username(username));
    }
    let pending = get("request_id").and_then(|id| app.store().pending(id).cloned());
    let Some(pending) = pending else {
        return error_page(
            400,
            "this login form has expired or was already used".into(),
            step,
        );
    };
    step.flow = Some(pending.flow);
    // The form does not name the client; the inspector shows whom the consent was for.
    step.params.insert(
        0,
        (
            "client_id".into(),
            app.config.clients[pending.client].id.clone(),
        ),
    );
    let request_id = get("request_id").unwrap_or_default().to_string();
    let checked = Checked {
        client: pending.client,
        redirect_uri: pending.redirect_uri.clone(),
        redirect_uri_sent: pending.redirect_uri_sent,
        state: pending.state.clone(),
    };
    match decision {
        "deny" => {
            app.store().remove_pending(&request_id);
            // RFC 6749 §4.1.2.1: access_denied.
            redirect_error(
                app,
                &checked,
                &refuse("access_denied", "the user denied the request"),
                303,
                step,
            )
        }
        "approve" => {
            let username = get("username").unwrap_or("");
            let user = app.log_in(username, get("password").unwrap_or(""));
            let Some(user) = user else {
                step.outcome = "wrong username or password; login page shown again".into();
                return pages::consent(&Consent {
                    request_id: &request_id,
                    client: &app.config.clients[pending.client],
                    scope: pending.scope,
                    redirect_uri: &pending.redirect_uri,
                    users: &app.config.users,
                    error: Some("Wrong username or password. The lab users are listed below."),
                    // An unknown name may be a password typed into the wrong box.
                    username: if app.user_index(username).is_some() {
                        username
                    } else {
                        ""
                    },
                });
            };
            // The form is single use: a second submission finds nothing.
            if app.store().remove_pending(&request_id).is_none() {
                return error_page(400, "this login form was already used".into(), step);
            }
            let asked = Asked {
                scope: pending.scope,
                challenge: pending.challenge,
                nonce: pending.nonce,
            };
            approve(app, &checked, user, asked, pending.flow, 303, step)
        }
        _ => error_page(
            400,
            "the form's decision must be approve or deny".into(),
            step,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_uri_matches as m;

    #[test]
    fn rfc8252_7_3_loopback_any_port() {
        assert!(m(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:49152/callback"
        ));
        assert!(m("http://[::1]/callback", "http://[::1]:8000/callback"));
        assert!(m(
            "http://localhost/callback",
            "http://localhost:65535/callback"
        ));
        assert!(m(
            "http://127.0.0.1:8080/callback",
            "http://127.0.0.1:9/callback"
        ));
    }

    #[test]
    fn rfc6749_3_1_2_3_everything_else_matches_exactly() {
        let r = "http://127.0.0.1/callback";
        for bad in [
            "http://127.0.0.1:8000/callback/",
            "http://127.0.0.1:8000/Callback",
            "http://127.0.0.1:8000/callback?x=1",
            "http://127.0.0.1:8000/callback#x",
            "https://127.0.0.1:8000/callback",
            "http://127.0.0.1.evil.example/callback",
            "http://127.0.0.1:80@evil.example/callback",
            "http://127.0.0.1:0/callback",
            "http://127.0.0.1:65536/callback",
            "http://127.0.0.1:08000/callback",
            "http://127.0.0.1:/callback",
            "http://localhost:8000/callback",
            "http://127.0.0.2:8000/callback",
        ] {
            assert!(!m(r, bad), "{bad} must not match {r}");
        }
        assert!(!m("https://app.example/cb", "https://app.example:444/cb"));
    }
}
