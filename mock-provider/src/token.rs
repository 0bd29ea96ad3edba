//! The token endpoint: RFC 6749 §4.1.3–4.1.4 (code), §6 (refresh), §5.1–5.2
//! (answers), client authentication §2.3, PKCE verification RFC 7636 §4.5–4.6,
//! refresh token rotation RFC 9700 §4.14; the device grant (RFC 8628 §3.4) is
//! in `device.rs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::app::{App, form_body, json};
use crate::config::Scopes;
use crate::http::{Request, Response};
use crate::params::Params;
use crate::secrets::{digest, s256, same_secret, shorten};
use crate::store::{CodeState, Issued};
use crate::trace::Step;

/// An RFC 6749 §5.2 error, with the status it is sent with.
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

pub fn fail(error: &'static str, description: impl Into<String>) -> OAuthError {
    // §5.2: invalid_client is 401 (with WWW-Authenticate); the rest are 400.
    let status = if error == "invalid_client" { 401 } else { 400 };
    OAuthError {
        status,
        error,
        description: description.into(),
    }
}

impl OAuthError {
    pub fn response(&self) -> Response {
        let response = no_store(json(
            self.status,
            &json!({ "error": self.error, "error_description": crate::app::description_text(&self.description) }),
        ));
        if self.status == 401 {
            response.with_header("WWW-Authenticate", "Basic realm=\"oauth2-lab\"")
        } else {
            response
        }
    }
}

/// RFC 6749 §5.1: token answers must not be cached.
pub fn no_store(response: Response) -> Response {
    response
        .with_header("Cache-Control", "no-store")
        .with_header("Pragma", "no-cache")
}

/// Client authentication (RFC 6749 §2.3.1): HTTP Basic or `client_secret` in the
/// body, never both (behaviour 7); a public client sends only `client_id`.
/// Returns the client's index.
pub fn authenticate(
    app: &App,
    req: &Request,
    params: &Params,
    step: &mut Step,
) -> Result<usize, OAuthError> {
    let authorization = req
        .header("authorization")
        .map_err(|e| fail("invalid_request", e))?;
    let body_id = params.get("client_id").ok().flatten();
    let body_secret = params.get("client_secret").ok().flatten();
    let basic = match authorization {
        None => None,
        Some(value) => {
            let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(fail(
                    "invalid_client",
                    format!(
                        "the token endpoint takes HTTP Basic client authentication, not {scheme}"
                    ),
                ));
            }
            Some(decode_basic(credentials.trim())?)
        }
    };
    if basic.is_some() && body_secret.is_some() {
        return Err(fail(
            "invalid_request",
            "two client authentication methods at once: use HTTP Basic or client_secret in the body, not both (RFC 6749 §2.3)",
        ));
    }
    let (id, secret) = match &basic {
        Some((id, secret)) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(fail(
                    "invalid_request",
                    "client_id in the body differs from the one in the Authorization header",
                ));
            }
            (id.as_str(), Some(secret.as_str()).filter(|s| !s.is_empty()))
        }
        None => match body_id {
            Some(id) => (id, body_secret),
            None => {
                return Err(fail(
                    "invalid_client",
                    "no client authentication: send HTTP Basic, or client_id (and client_secret) in the body",
                ));
            }
        },
    };
    step.actor = id.to_string();
    let Some(index) = app.client_index(id) else {
        return Err(fail(
            "invalid_client",
            format!("no client is registered as {id:?}"),
        ));
    };
    match (&app.config.clients[index].secret, secret) {
        (None, None) => Ok(index),
        (None, Some(_)) => Err(fail(
            "invalid_client",
            format!("{id} is a public client and has no secret: send client_id only"),
        )),
        (Some(_), None) => Err(fail(
            "invalid_client",
            format!("{id} is a confidential client: authenticate with its secret"),
        )),
        (Some(expected), Some(given)) if same_secret(expected, given) => Ok(index),
        (Some(_), Some(given)) => Err(fail(
            "invalid_client",
            format!("wrong client secret for {id} (got {})", shorten(given)),
        )),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(credentials: &str) -> Result<(String, String), OAuthError> {
    let bad = || {
        fail(
            "invalid_client",
            "the Basic credentials are not base64 of client_id:client_secret",
        )
    };
    let bytes = STANDARD.decode(credentials).map_err(|_| bad())?;
    let colon = bytes.iter().position(|b| *b == b':').ok_or_else(bad)?;
    let part = |raw: &[u8]| -> Result<String, OAuthError> {
        let mut wrapped = b"v=".to_vec();
        wrapped.extend_from_slice(raw);
        let p = Params::parse(&wrapped).map_err(|_| bad())?;
        Ok(p.get("v").ok().flatten().unwrap_or("").to_string())
    };
    Ok((part(&bytes[..colon])?, part(&bytes[colon + 1..])?))
}

/// `POST /token`.
pub fn endpoint(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "unknown client".into();
    let result = form_body(req)
        .map_err(|problem| fail("invalid_request", problem))
        .and_then(|params| {
            let client = authenticate(app, req, &params, step)?;
            let grant_type = params.get("grant_type").ok().flatten();
            step.param("grant_type", grant_type.unwrap_or(""));
            match grant_type {
                None => Err(fail("invalid_request", "grant_type is missing")),
                Some("authorization_code") => exchange_code(app, client, &params, step),
                Some("refresh_token") => refresh(app, client, &params, step),
                Some(crate::device::GRANT_TYPE) => crate::device::poll(app, client, &params, step),
                Some(other) => Err(fail(
                    "unsupported_grant_type",
                    format!("grant_type {other:?} is not supported: use authorization_code, refresh_token or {}", crate::device::GRANT_TYPE),
                )),
            }
        });
    match result {
        Ok(response) => response,
        Err(e) => {
            step.outcome = format!("{}: {}", e.error, e.description);
            e.response()
        }
    }
}

/// RFC 6749 §4.1.3: code → tokens, with every check of behaviours 8–10.
fn exchange_code(
    app: &App,
    client: usize,
    params: &Params,
    step: &mut Step,
) -> Result<Response, OAuthError> {
    let get = |name| params.get(name).ok().flatten();
    let code = get("code").ok_or_else(|| fail("invalid_request", "code is missing"))?;
    step.param("code", shorten(code));
    if let Some(uri) = get("redirect_uri") {
        step.param("redirect_uri", uri);
    }
    let verifier = get("code_verifier");
    if let Some(v) = verifier {
        step.param("code_verifier", shorten(v));
        // RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~].
        let charset_ok = v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !(43..=128).contains(&v.len()) || !charset_ok {
            return Err(fail(
                "invalid_request",
                "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)",
            ));
        }
    }
    let now = app.now();
    let mut store = app.store();
    let key = digest(code);
    let replayed = store
        .used_codes
        .get(&key)
        .map(|&(grant, flow)| CodeState::Used { grant, flow });
    let Some(record) = store.codes.get(&key).or(replayed.as_ref()) else {
        return Err(fail(
            "invalid_grant",
            format!(
                "the code is not valid: it expired (codes live {} s), or this server never issued it",
                app.config.code_ttl.as_secs()
            ),
        ));
    };
    let details = match record {
        // RFC 6749 §4.1.2: a code works once; a replay revokes what it gave (behaviour 9).
        CodeState::Used { grant, flow } => {
            let (grant, flow) = (*grant, *flow);
            step.flow = Some(flow);
            let killed = store.revoke_grant(grant);
            return Err(fail(
                "invalid_grant",
                format!(
                    "the code was already used; the {killed} tokens issued from it are now revoked"
                ),
            ));
        }
        CodeState::Unused(details) => details.clone(),
    };
    step.flow = Some(details.flow);
    // Behaviour 8: a code is bound to its client, redirect URI and PKCE challenge.
    if details.client != client {
        return Err(fail(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    match get("redirect_uri") {
        // §4.1.3: required only if the authorization request included it.
        None if !details.redirect_uri_sent => {}
        None => {
            return Err(fail(
                "invalid_request",
                "redirect_uri is missing: send the same one as in the authorization request (RFC 6749 §4.1.3)",
            ));
        }
        Some(uri) if uri != details.redirect_uri => {
            return Err(fail(
                "invalid_grant",
                format!(
                    "redirect_uri differs from the authorization request's ({})",
                    details.redirect_uri
                ),
            ));
        }
        Some(_) => {}
    }
    match (&details.challenge, verifier) {
        (Some(_), None) => {
            return Err(fail(
                "invalid_grant",
                "code_verifier is missing: this code was issued with a PKCE challenge (RFC 7636 §4.5)",
            ));
        }
        (Some(challenge), Some(v)) if s256(v) != *challenge => {
            return Err(fail(
                "invalid_grant",
                "code_verifier does not match the code_challenge (RFC 7636 §4.6)",
            ));
        }
        (None, Some(_)) => {
            // RFC 9700 §2.1.1: refuse a verifier for a code issued without a challenge.
            return Err(fail(
                "invalid_grant",
                "code_verifier was sent, but this code was issued without a code_challenge",
            ));
        }
        _ => {}
    }
    let (token_exp, refresh_exp) = expiries(app, now);
    let (grant, issued) = store.new_grant(
        details.client,
        details.user,
        details.scope,
        details.flow,
        token_exp,
        refresh_exp,
    );
    store.codes.insert(
        key,
        CodeState::Used {
            grant,
            flow: details.flow,
        },
    );
    drop(store);
    Ok(success(app, &issued, details.scope, details.user, step))
}

pub(crate) fn expiries(app: &App, now: u64) -> (u64, u64) {
    (
        now + app.config.token_ttl.as_millis() as u64,
        now + app.config.refresh_ttl.as_millis() as u64,
    )
}

/// RFC 6749 §6 with rotation (behaviour 11).
fn refresh(
    app: &App,
    client: usize,
    params: &Params,
    step: &mut Step,
) -> Result<Response, OAuthError> {
    let get = |name| params.get(name).ok().flatten();
    let token =
        get("refresh_token").ok_or_else(|| fail("invalid_request", "refresh_token is missing"))?;
    step.param("refresh_token", shorten(token));
    let requested = match get("scope") {
        None => None,
        Some(s) => {
            step.param("scope", s);
            Some(
                Scopes::parse(s)
                    .map_err(|u| fail("invalid_scope", format!("unknown scope {u:?}")))?,
            )
        }
    };
    let now = app.now();
    let mut store = app.store();
    let Some(record) = store.refresh.get(&digest(token)) else {
        return Err(fail(
            "invalid_grant",
            "the refresh token is unknown or was revoked: authorize again",
        ));
    };
    let (grant_id, current, expires_at) = (record.grant, record.current, record.expires_at);
    let Some(grant) = store.grants.get(&grant_id) else {
        return Err(fail(
            "invalid_grant",
            "the refresh token was revoked: authorize again",
        ));
    };
    let (grant_client, user, grant_scope, flow) =
        (grant.client, grant.user, grant.scope, grant.flow);
    step.flow = Some(flow);
    if grant_client != client {
        return Err(fail(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    if expires_at <= now {
        return Err(fail(
            "invalid_grant",
            "the refresh token has expired: authorize again",
        ));
    }
    if !current {
        // RFC 9700 §4.14.2: a rotated-out token used again means two parties hold it.
        let killed = store.revoke_grant(grant_id);
        return Err(fail(
            "invalid_grant",
            format!(
                "the refresh token was already used and replaced; the grant and its {killed} live tokens are now revoked"
            ),
        ));
    }
    let scope = match requested {
        Some(s) if s.is_empty() => grant_scope,
        Some(s) if !grant_scope.contains(s) => {
            return Err(fail(
                "invalid_scope",
                format!("a refresh may ask for at most the original scope: {grant_scope}"),
            ));
        }
        Some(s) => s,
        None => grant_scope,
    };
    let (token_exp, refresh_exp) = expiries(app, now);
    let issued = store.issue_tokens(grant_id, scope, token_exp, refresh_exp);
    drop(store);
    Ok(success(app, &issued, scope, user, step))
}

/// RFC 6749 §5.1 (behaviour 6).
pub(crate) fn success(
    app: &App,
    issued: &Issued,
    scope: Scopes,
    user: usize,
    step: &mut Step,
) -> Response {
    step.user = Some(app.config.users[user].username.clone());
    step.outcome = format!(
        "tokens for {}: access {} ({} s), refresh {}, scope {scope}",
        app.config.users[user].username,
        shorten(&issued.access_token),
        app.config.token_ttl.as_secs(),
        shorten(&issued.refresh_token),
    );
    no_store(json(
        200,
        &json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": app.config.token_ttl.as_secs(),
            "refresh_token": issued.refresh_token,
            "scope": scope.to_string(),
        }),
    ))
}
