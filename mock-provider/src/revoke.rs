//! The revocation endpoint: RFC 7009 §2.
//!
//! The client authenticates as at the token endpoint. Revoking a refresh token
//! ends its grant, with every access token issued under it (§2.1: "SHOULD");
//! revoking an access token ends only that token. An unknown or already
//! revoked token is answered 200 (§2.2), so a client can always log out.

use crate::endpoint::{OAuthError, authenticate, fail, form_body, no_store};
use crate::http::{Request, Response};
use crate::secrets::{digest, shorten};
use crate::state::App;
use crate::trace::Step;

pub fn endpoint(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "unknown client".into();
    match revoke(app, req, step) {
        Ok(()) => no_store(Response::new(200, "application/json", "{}")),
        Err(e) => {
            step.outcome = format!("{}: {}", e.error, e.description);
            e.response()
        }
    }
}

fn revoke(app: &App, req: &Request, step: &mut Step) -> Result<(), OAuthError> {
    let params = form_body(req).map_err(|p| fail("invalid_request", p))?;
    let client = authenticate(app, req, &params, step)?;
    let token = params.get("token").ok().flatten().ok_or_else(|| {
        fail(
            "invalid_request",
            "token is missing: send the token to revoke",
        )
    })?;
    step.param("token", shorten(token));
    // token_type_hint is only a hint (§2.1): both kinds are searched whatever it says.
    if let Some(hint) = params.get("token_type_hint").ok().flatten() {
        step.param("token_type_hint", hint);
    }
    let key = digest(token);
    let mut store = app.store();
    let refresh_grant = store.refresh.get(&key).map(|r| r.grant);
    let access_grant = store.access.get(&key).map(|a| a.grant);
    let Some(grant_id) = refresh_grant.or(access_grant) else {
        step.outcome = "unknown token: nothing to revoke (200, RFC 7009 §2.2)".into();
        return Ok(());
    };
    let Some(grant) = store.grants.get(&grant_id) else {
        step.outcome = "already revoked".into();
        return Ok(());
    };
    step.flow = Some(grant.flow);
    step.user = Some(app.config.users[grant.user].username.clone());
    // §2.1: the token must have been issued to the client asking.
    if grant.client != client {
        return Err(fail(
            "unauthorized_client",
            "this token was issued to another client, which alone may revoke it",
        ));
    }
    if refresh_grant.is_some() {
        let killed = store.revoke_grant(grant_id);
        step.outcome = format!("refresh token revoked with its grant: {killed} live tokens ended");
    } else {
        store.revoke_access(&key);
        step.outcome = "access token revoked".into();
    }
    Ok(())
}
