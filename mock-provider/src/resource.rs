//! The resource server: `GET /api/me` and `GET /api/posts`, protected with bearer
//! tokens (RFC 6750 §2.1, §3.1), with an optional per-token rate limit.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use crate::config::Scopes;
use crate::data;
use crate::endpoint::{description_text, json, json_error, no_store};
use crate::http::{Request, Response};
use crate::params::Params;
use crate::secrets::{digest, shorten};
use crate::state::App;
use crate::trace::Step;

pub const REALM: &str = "oauth2-lab";
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// Whom a valid token speaks for, and what it may do.
pub struct Caller {
    pub user: usize,
    /// The access token's scope.
    pub scope: Scopes,
}

/// RFC 6750 §3.1: the `WWW-Authenticate: Bearer` challenge and a JSON body saying the same.
fn challenge(status: u16, error: Option<&str>, description: &str, scope: Option<&str>) -> Response {
    // RFC 6750 §3: the description may hold only printable ASCII without `"` and `\\`.
    let description = &description_text(description);
    let mut header = format!("Bearer realm=\"{REALM}\"");
    if let Some(error) = error {
        header.push_str(&format!(
            ", error=\"{error}\", error_description=\"{description}\""
        ));
    }
    if let Some(scope) = scope {
        header.push_str(&format!(", scope=\"{scope}\""));
    }
    let response = match error {
        Some(e) => json_error(status, e, description),
        // §3.1: no error code when the request had no authentication at all.
        None => json(status, &json!({ "message": description })),
    };
    response.with_header("WWW-Authenticate", header)
}

/// Checks the bearer token, its scope and the rate limit (also for
/// `/userinfo`, in `oidc.rs`).
pub fn authorize(
    app: &App,
    req: &Request,
    query: &Params,
    needed: Scopes,
    step: &mut Step,
) -> Result<Caller, Response> {
    step.actor = "api client".into();
    // §2.3 allows a token in the URL, but URLs end up in logs and Referer headers.
    if query.iter().any(|(n, _)| n == "access_token") {
        return Err(challenge(
            400,
            Some("invalid_request"),
            "send the token in the Authorization header, not in the URL (RFC 6750 §2.3 warns it leaks)",
            None,
        ));
    }
    let header = req
        .header("authorization")
        .map_err(|e| challenge(400, Some("invalid_request"), &e, None))?;
    let Some(value) = header else {
        return Err(challenge(
            401,
            None,
            "this API needs an access token: send Authorization: Bearer <token>",
            None,
        ));
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.is_empty() {
        return Err(challenge(
            401,
            None,
            "the Authorization header is empty: send Authorization: Bearer <token>",
            None,
        ));
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(challenge(
            401,
            None,
            &format!(
                "this API takes Bearer tokens, not {scheme}: send Authorization: Bearer <token>"
            ),
            None,
        ));
    }
    let token = token.trim();
    // §2.1 b64token syntax.
    let syntax_ok = !token.is_empty()
        && token
            .trim_end_matches('=')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !syntax_ok {
        return Err(challenge(
            400,
            Some("invalid_request"),
            "the bearer token is empty or malformed",
            None,
        ));
    }
    step.param("token", shorten(token));
    let now = app.now();
    let mut store = app.store();
    let key = digest(token);
    let Some(access) = store.access.get(&key) else {
        return Err(challenge(
            401,
            Some("invalid_token"),
            "the access token is unknown or was revoked: authorize again",
            None,
        ));
    };
    let grant_id = access.grant;
    let Some(grant) = store.grants.get(&grant_id) else {
        return Err(challenge(
            401,
            Some("invalid_token"),
            "the access token was revoked: authorize again",
            None,
        ));
    };
    let (user, flow, client) = (grant.user, grant.flow, grant.client);
    step.flow = Some(flow);
    step.actor = app.config.clients[client].id.clone();
    step.user = Some(app.config.users[user].username.clone());
    let access = store.access.get_mut(&key).expect("looked up above");
    if access.revoked {
        return Err(challenge(
            401,
            Some("invalid_token"),
            "the access token was revoked: authorize again",
            None,
        ));
    }
    if access.expires_at <= now {
        return Err(challenge(
            401,
            Some("invalid_token"),
            "the access token has expired: use the refresh token, or authorize again",
            None,
        ));
    }
    if !access.scope.contains(needed) {
        return Err(challenge(
            403,
            Some("insufficient_scope"),
            &format!(
                "this call needs scope {needed}; the token has {}",
                access.scope
            ),
            Some(&needed.to_string()),
        ));
    }
    let scope = access.scope;
    if let Some(per_second) = app.config.rate_limit {
        rate_limit(&mut access.bucket, per_second, now)?;
    }
    Ok(Caller { user, scope })
}

/// A token bucket per access token: `per_second` requests a second, bursts of as many.
fn rate_limit(bucket: &mut (f64, u64), per_second: u32, now: u64) -> Result<(), Response> {
    let capacity = f64::from(per_second.max(1));
    let (tokens, last) = *bucket;
    let tokens = if tokens.is_nan() {
        capacity
    } else {
        (tokens + now.saturating_sub(last) as f64 * capacity / 1000.0).min(capacity)
    };
    if tokens >= 1.0 {
        *bucket = (tokens - 1.0, now);
        return Ok(());
    }
    *bucket = (tokens, now);
    let wait = ((1.0 - tokens) / capacity).ceil().max(1.0) as u64;
    Err(json_error(
        429,
        "rate_limited",
        &format!(
            "more than {per_second} requests a second with this token: wait {wait} s (Retry-After)"
        ),
    )
    .with_header("Retry-After", wait.to_string()))
}

pub fn read_query(req: &Request) -> Result<Params, Response> {
    Params::parse(req.query.as_deref().unwrap_or("").as_bytes())
        .map_err(|e| json_error(400, "invalid_request", &e.to_string()))
}

/// `GET /api/me` (scope `profile`). Personal data: no cache keeps it (RFC 9111
/// §5.2.2.5, as RFC 6749 §5.1 asks of tokens).
pub fn me(app: &App, req: &Request, step: &mut Step) -> Response {
    no_store(me_answer(app, req, step))
}

fn me_answer(app: &App, req: &Request, step: &mut Step) -> Response {
    let result = read_query(req)
        .and_then(|query| authorize(app, req, &query, Scopes::parse("profile").unwrap(), step));
    match result {
        Ok(caller) => {
            let user = &app.config.users[caller.user];
            step.outcome = format!("profile of {}", user.username);
            json(
                200,
                &json!({ "id": caller.user + 1, "username": user.username, "name": user.name, "email": user.email }),
            )
        }
        Err(response) => response,
    }
}

/// `GET /api/posts?limit=&cursor=` (scope `posts:read`): newest first, `next` in
/// the body and in a `Link: <…>; rel="next"` header (RFC 8288). Private posts:
/// no cache keeps them.
pub fn posts(app: &App, req: &Request, step: &mut Step) -> Response {
    no_store(posts_answer(app, req, step))
}

fn posts_answer(app: &App, req: &Request, step: &mut Step) -> Response {
    let query = match read_query(req) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let caller = match authorize(app, req, &query, Scopes::parse("posts:read").unwrap(), step) {
        Ok(c) => c,
        Err(response) => return response,
    };
    let user = &app.config.users[caller.user];
    let (limit, cursor) = match (query.get("limit"), query.get("cursor")) {
        (Ok(limit), Ok(cursor)) => (limit, cursor),
        (Err(e), _) | (_, Err(e)) => return json_error(400, "invalid_request", &e.to_string()),
    };
    // What the client asked for, then (below) the cursor of the page after this one.
    for (name, value) in [("limit", limit), ("cursor", cursor)] {
        if let Some(value) = value {
            step.param(name, value);
        }
    }
    let limit = match limit.map(str::parse::<usize>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return json_error(
                400,
                "invalid_request",
                &format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
            );
        }
    };
    let start = match cursor {
        None => 0,
        Some(c) => match decode_cursor(c, &user.username) {
            Some(offset) if offset <= user.posts => offset,
            _ => {
                return json_error(
                    400,
                    "invalid_request",
                    "cursor is not one this API gave out for this user: use the next value of the previous page",
                );
            }
        },
    };
    let end = (start + limit).min(user.posts);
    let page: Vec<_> = (start..end).map(|i| data::post(user, i)).collect();
    let next = (end < user.posts).then(|| encode_cursor(&user.username, end));
    if let Some(c) = &next {
        step.param("next", c.as_str());
    }
    step.outcome = format!(
        "{} posts of {} ({}–{} of {})",
        page.len(),
        user.username,
        start + 1,
        end,
        user.posts
    );
    let mut response = json(200, &json!({ "posts": page, "next": next }));
    if let Some(c) = &next {
        response = response.with_header(
            "Link",
            format!(
                "<{}/api/posts?limit={limit}&cursor={c}>; rel=\"next\"",
                app.issuer
            ),
        );
    }
    response
}

/// Cursors are opaque to clients; here they are `username:offset` in base64url.
fn encode_cursor(username: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{username}:{offset}"))
}

fn decode_cursor(cursor: &str, username: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (who, offset) = text.split_once(':')?;
    if who != username || offset.starts_with('+') {
        return None;
    }
    offset.parse().ok()
}
