//! The token endpoint: RFC 6749 §4.1.3–4.1.4 (code), §6 (refresh), PKCE
//! verification RFC 7636 §4.5–4.6, refresh token rotation RFC 9700 §4.14, and
//! replays revoking only for the code's own client (RFC 9700 §4.5).
//! Client authentication (§2.3) and the answers (§5.1–5.2) are in
//! `endpoint.rs`, shared with the other endpoints; the device grant (RFC 8628
//! §3.4) is in `device.rs`. With scope `openid`, the answer carries an ID
//! token (OpenID Connect Core 1.0 §3.1.3.3, and §12.2 on a refresh), made in
//! `oidc.rs`.

use crate::config::Scopes;
use crate::device;
use crate::endpoint::{
    DEVICE_GRANT_TYPE, OAuthError, authenticate, expiries, fail, form_body, success,
};
use crate::http::{Request, Response};
use crate::oidc::{id_token, wants_id_token};
use crate::params::Params;
use crate::secrets::{digest, s256, shorten};
use crate::state::App;
use crate::store::CodeState;
use crate::trace::Step;

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
                Some(DEVICE_GRANT_TYPE) => device::poll(app, client, &params, step),
                Some(other) => Err(fail(
                    "unsupported_grant_type",
                    format!("grant_type {other:?} is not supported: use authorization_code, refresh_token or {DEVICE_GRANT_TYPE}"),
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

/// RFC 6749 §4.1.3: code → tokens, once, by the client it was issued to, with
/// the same redirect URI and the verifier of its PKCE challenge (RFC 7636 §4.6).
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
    let (details, used) = match (store.codes.get(&key), store.used_codes.get(&key)) {
        (Some(CodeState::Unused(details)), _) => (details.clone(), None),
        (Some(CodeState::Used { grant, details }), _) | (None, Some((grant, details))) => {
            (details.clone(), Some(*grant))
        }
        (None, None) => {
            return Err(fail(
                "invalid_grant",
                format!(
                    "the code is not valid: it expired (codes live {} s), or this server never issued it",
                    app.config.code_ttl.as_secs()
                ),
            ));
        }
    };
    step.flow = Some(details.flow);
    // RFC 6749 §4.1.3, RFC 7636 §4.6: a code is bound to its client, redirect
    // URI and PKCE challenge. A used code is checked the same way first: only
    // its own client, proving itself as on the first exchange, can be the
    // party whose code leaked, so only then is the grant revoked (RFC 9700
    // §4.5). Otherwise anyone who saw a used code could end someone's tokens.
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
    // RFC 6749 §4.1.2: a code works once; its own client using it again
    // revokes what it gave.
    if let Some(grant) = used {
        let killed = store.revoke_grant(grant);
        return Err(fail(
            "invalid_grant",
            format!(
                "the code was already used; the {killed} tokens issued from it are now revoked"
            ),
        ));
    }
    let (token_exp, refresh_exp) = expiries(app, now);
    let (grant, issued) = store.new_grant(
        details.client,
        details.user,
        details.scope,
        details.flow,
        details.auth_time,
        (token_exp, refresh_exp),
    );
    let (scope, user, auth_time) = (details.scope, details.user, details.auth_time);
    let nonce = details.nonce.clone();
    store.codes.insert(key, CodeState::Used { grant, details });
    drop(store);
    // OpenID Connect Core 1.0 §3.1.3.3: an ID token for scope openid, with
    // the authorization request's nonce (§3.1.2.1).
    let id = wants_id_token(scope)
        .then(|| id_token(app, client, user, scope, auth_time, nonce.as_deref()));
    Ok(success(app, &issued, scope, user, id.as_ref(), step))
}

/// RFC 6749 §6 with rotation (RFC 9700 §4.14.2).
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
    let (grant_client, user, grant_scope, flow, auth_time) = (
        grant.client,
        grant.user,
        grant.scope,
        grant.flow,
        grant.auth_time,
    );
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
    // OpenID Connect Core 1.0 §12.2: a new ID token with the same iss, sub,
    // aud and auth_time, a new iat and exp, and no nonce (§12.2 lets it be
    // left out; a nonce belongs to one authorization request).
    let id = wants_id_token(scope).then(|| id_token(app, client, user, scope, auth_time, None));
    Ok(success(app, &issued, scope, user, id.as_ref(), step))
}
