//! The device authorization grant, RFC 8628.
//!
//! A device without a browser asks `POST /device_authorization` for a device
//! code and a user code (§3.1–3.2); a person types the user code at `/device`
//! on a phone or computer, logs in and decides (§3.3); meanwhile the device
//! polls `POST /token` with the device code (§3.4) and hears, in turn,
//! `authorization_pending`, `slow_down` when it polls too fast, then tokens,
//! `access_denied` or `expired_token` (§3.5).
//!
//! The device code is a secret like an authorization code: the store keeps
//! only its digest, and the trace shows it shortened. The user code is short
//! enough to type (§6.1), so guessing it is bounded instead (§5.1). Everyone
//! may arrive from 127.0.0.1 (a class through SSH tunnels), so a guesser cannot
//! be told apart by address, and one counter for the whole provider would let
//! one runaway loop lock out the class. Wrong entries are counted instead per
//! slice of the code space: [`USER_CODE_SLICES`] slices, cut by a keyed hash
//! nobody outside can compute, each taking [`MAX_WRONG_USER_CODES_PER_SLICE`]
//! wrong entries a minute before it refuses entries that fall in it. A flood
//! locks only the slices it fills, and another person's right code is in a
//! slice of its own; guessing as a whole stays below 20,480 tries a minute, so
//! with 20^8 codes, hitting a given live code within its ten minutes has odds
//! under one in 100,000. Entries that are not eight code letters at all are
//! nobody's code and count against no slice. The trace shows only the first
//! two characters of a user code, which leaves the guess as hard.

use serde_json::json;

use crate::config::{DEFAULT_SCOPE, Scopes};
use crate::endpoint::{
    OAuthError, authenticate, expiries, fail, form_body, json, no_store, success,
};
use crate::http::{Request, Response};
use crate::pages::{self, DeviceConsent};
use crate::params::Params;
use crate::secrets::{digest, normalize_user_code, shorten, show_user_code};
use crate::state::App;
use crate::store::{DeviceState, MAX_WRONG_USER_CODES_PER_SLICE, USER_CODE_SLICES};
use crate::trace::Step;

/// Seconds a device waits between polls, as first told (§3.2 `interval`).
pub const INTERVAL_SECS: u64 = 5;
/// What each `slow_down` adds to the interval (§3.5).
const SLOW_DOWN_MS: u64 = 5_000;

/// A user code as the trace shows it: two characters, enough to tell two
/// flows apart and too few to help anyone guess it (§5.1).
fn half(user_code: &str) -> String {
    // What a person typed may be anything: count characters, not bytes.
    format!("{}…", user_code.chars().take(2).collect::<String>())
}

/// `POST /device_authorization` (RFC 8628 §3.1–3.2).
pub fn authorization(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "unknown client".into();
    let result = form_body(req)
        .map_err(|problem| fail("invalid_request", problem))
        .and_then(|params| {
            // §3.1: the client authenticates as at the token endpoint, or names itself.
            let client = authenticate(app, req, &params, step)?;
            let registered = &app.config.clients[client];
            step.param("client_id", registered.id.clone());
            let requested = params.get("scope").ok().flatten();
            if let Some(s) = requested {
                step.param("scope", s);
            }
            let scope = match Scopes::parse(requested.unwrap_or(DEFAULT_SCOPE)) {
                Err(unknown) => {
                    return Err(fail("invalid_scope", format!("unknown scope {unknown:?}")));
                }
                Ok(s) if s.is_empty() => {
                    return Err(fail("invalid_scope", "the scope list is empty"));
                }
                Ok(s) if !registered.allowed_scopes().contains(s) => {
                    return Err(fail(
                        "invalid_scope",
                        format!(
                            "{} may ask only for: {}",
                            registered.id,
                            registered.allowed_scopes()
                        ),
                    ));
                }
                Ok(s) => s,
            };
            let ttl = app.config.device_ttl;
            let expires_at = app.now() + ttl.as_millis() as u64;
            let (device_code, user_code, flow) = {
                let mut store = app.store();
                let flow = store.new_flow();
                let (device_code, user_code) =
                    store.add_device(client, scope, flow, expires_at, INTERVAL_SECS * 1000);
                (device_code, user_code, flow)
            };
            step.flow = Some(flow);
            let shown = show_user_code(&user_code);
            let verification_uri = format!("{}/device", app.issuer);
            step.outcome = format!(
                "device code {} and user code {} issued for {scope}; a person enters the code at {verification_uri} within {} s",
                shorten(&device_code),
                half(&shown),
                ttl.as_secs()
            );
            Ok(no_store(json(
                200,
                &json!({
                    "device_code": device_code,
                    "user_code": shown,
                    "verification_uri": verification_uri,
                    "verification_uri_complete": format!("{verification_uri}?user_code={shown}"),
                    "expires_in": ttl.as_secs(),
                    "interval": INTERVAL_SECS,
                }),
            )))
        });
    match result {
        Ok(response) => response,
        Err(e) => {
            step.outcome = format!("{}: {}", e.error, e.description);
            e.response()
        }
    }
}

/// `GET /device[?user_code=…]` (§3.3, §3.3.1): the page to type the code on,
/// prefilled from `verification_uri_complete`. Nothing is looked up until the
/// person presses Continue, so a link alone approves nothing.
pub fn page(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "browser".into();
    let typed = match Params::parse(req.query.as_deref().unwrap_or("").as_bytes()) {
        Ok(params) => params
            .get("user_code")
            .ok()
            .flatten()
            .unwrap_or("")
            .to_string(),
        Err(e) => {
            step.outcome = format!("the address cannot be read: {e}");
            return pages::device_entry(
                400,
                "",
                Some(&format!(
                    "This address cannot be read ({e}). Type the code your device shows."
                )),
            );
        }
    };
    if !typed.is_empty() {
        step.param("user_code", half(&typed));
    }
    // The inspector joins this step to its flow when the code is a live one.
    if let Some(code) = normalize_user_code(&typed) {
        let store = app.store();
        step.flow = store
            .user_codes
            .get(&code)
            .and_then(|key| store.devices.get(key))
            .map(|d| d.flow);
    }
    step.outcome = "code entry page shown".into();
    pages::device_entry(200, &typed, None)
}

/// `POST /device`: the code entry form (`user_code`), then the login + consent
/// form (`user_code`, `username`, `password`, `decision`).
pub fn form(app: &App, req: &Request, step: &mut Step) -> Response {
    step.actor = "browser".into();
    let params = match form_body(req) {
        Ok(p) => p,
        Err(problem) => {
            step.outcome = format!("the form cannot be read: {problem}");
            return pages::device_entry(
                400,
                "",
                Some(&format!(
                    "The form cannot be read ({problem}). Type the code your device shows."
                )),
            );
        }
    };
    let get = |name| params.get(name).ok().flatten();
    let typed = get("user_code").unwrap_or("");
    let decision = get("decision");
    if !typed.is_empty() {
        step.param("user_code", half(typed));
    }
    if let Some(d) = decision {
        step.param("decision", d);
    }
    if let Some(u) = get("username").filter(|_| matches!(decision, Some("approve" | "deny"))) {
        step.param("username", app.shown_username(u));
    }
    let now = app.now();
    let mut store = app.store();
    let not_valid = |status| {
        pages::device_entry(
            status,
            typed,
            Some(&format!(
                "That code is not valid: it may be mistyped, expired (codes live {}), or already used. Check the code on your device; if it has expired there, start again on the device for a new one.",
                match app.config.device_ttl.as_secs() {
                    s if s < 120 => format!("{s} seconds"),
                    s => format!("{} minutes", s.div_ceil(60)),
                }
            )),
        )
    };
    // Not eight code letters: nobody's code, so no guess to count.
    let Some(code) = normalize_user_code(typed) else {
        step.outcome = "not a user code (eight letters); the entry page is shown again".into();
        return not_valid(400);
    };
    // §5.1: a bounded number of guesses per slice; past it, right codes of
    // that slice wait too, or guessing there would go on.
    if store.user_code_slice_locked(&code, now) {
        step.outcome = format!(
            "refused: {MAX_WRONG_USER_CODES_PER_SLICE} wrong user codes in the last minute in this code's slice (1 of {USER_CODE_SLICES}; RFC 8628 §5.1)"
        );
        return pages::device_entry(
            429,
            typed,
            Some("Too many wrong codes like this one were entered in the last minute. Wait a minute, then try again."),
        )
        .with_header("Retry-After", "60");
    }
    let found = store.user_codes.get(&code).copied().filter(|key| {
        store
            .devices
            .get(key)
            .is_some_and(|d| d.expires_at > now && d.state == DeviceState::Pending)
    });
    let Some(key) = found else {
        store.wrong_user_code(&code, now);
        step.outcome = "unknown, expired or used user code; the entry page is shown again".into();
        return not_valid(400);
    };
    let device = store.devices.get_mut(&key).expect("found above");
    step.flow = Some(device.flow);
    let client = &app.config.clients[device.client];
    step.params
        .insert(0, ("client_id".to_string(), client.id.clone()));
    let consent = |error, username| {
        pages::device_consent(&DeviceConsent {
            user_code: &code,
            client,
            scope: device.scope,
            users: &app.config.users,
            error,
            username,
        })
    };
    match decision {
        None | Some("continue") => {
            step.outcome = "the code is right: login and consent page shown".into();
            consent(None, "")
        }
        Some(decision @ ("approve" | "deny")) => {
            // §3.3: the person logs in, then decides. Deny too: the user code is
            // short and shown on a screen, so knowing it proves nothing.
            let username = get("username").unwrap_or("");
            let user = app.log_in(username, get("password").unwrap_or(""));
            let Some(user) = user else {
                step.outcome = "wrong username or password; login page shown again".into();
                // An unknown name may be a password typed into the wrong box.
                let known = app.user_index(username).is_some();
                return consent(
                    Some("Wrong username or password. The lab users are listed below."),
                    if known { username } else { "" },
                );
            };
            step.user = Some(username.to_string());
            if decision == "deny" {
                device.state = DeviceState::Denied;
                step.outcome =
                    format!("{username} denied it; the device is told access_denied when it polls");
                return pages::device_done(false, &client.name);
            }
            device.state = DeviceState::Approved(user);
            step.outcome = format!(
                "{username} approved {}; the device gets tokens when it next polls",
                device.scope
            );
            pages::device_done(true, &client.name)
        }
        Some(_) => {
            step.outcome = "the form's decision is not approve or deny".into();
            pages::device_entry(
                400,
                typed,
                Some("The form's decision must be approve or deny."),
            )
        }
    }
}

/// `POST /token` with `grant_type=urn:ietf:params:oauth:grant-type:device_code`
/// (RFC 8628 §3.4–3.5), for an authenticated `client`.
pub fn poll(
    app: &App,
    client: usize,
    params: &Params,
    step: &mut Step,
) -> Result<Response, OAuthError> {
    let code = params
        .get("device_code")
        .ok()
        .flatten()
        .ok_or_else(|| fail("invalid_request", "device_code is missing (RFC 8628 §3.4)"))?;
    step.param("device_code", shorten(code));
    let now = app.now();
    let mut store = app.store();
    let Some(device) = store.devices.get_mut(&digest(code)) else {
        return Err(fail(
            "invalid_grant",
            "the device_code is unknown: this server never issued it, or expired it long ago",
        ));
    };
    step.flow = Some(device.flow);
    if device.client != client {
        return Err(fail(
            "invalid_grant",
            "the device_code was issued to another client",
        ));
    }
    if device.state == DeviceState::Spent {
        return Err(fail(
            "invalid_grant",
            "the device_code was already used: tokens were issued for it once",
        ));
    }
    if device.expires_at <= now {
        return Err(fail(
            "expired_token",
            format!(
                "the device_code has expired (device codes live {} s): start again with a new device authorization request",
                app.config.device_ttl.as_secs()
            ),
        ));
    }
    // §3.5: polling sooner than the interval earns slow_down, and the interval
    // grows by 5 s for this and every later request.
    let too_soon = device
        .last_poll
        .is_some_and(|last| now < last + device.interval_ms);
    device.last_poll = Some(now);
    if too_soon {
        device.interval_ms += SLOW_DOWN_MS;
        return Err(fail(
            "slow_down",
            format!(
                "polled sooner than the interval: wait {} s between polls from now on",
                device.interval_ms / 1000
            ),
        ));
    }
    match device.state {
        DeviceState::Pending => Err(fail(
            "authorization_pending",
            format!(
                "nobody has entered the user code and decided yet: poll again in {} s",
                device.interval_ms / 1000
            ),
        )),
        DeviceState::Denied => Err(fail("access_denied", "the person denied the request")),
        DeviceState::Approved(user) => {
            // Tokens once: the device code is spent from now on.
            device.state = DeviceState::Spent;
            let (scope, flow) = (device.scope, device.flow);
            let (token_exp, refresh_exp) = expiries(app, now);
            let (_, issued) =
                store.new_grant(client, user, scope, flow, now, (token_exp, refresh_exp));
            drop(store);
            Ok(success(app, &issued, scope, user, None, step))
        }
        DeviceState::Spent => unreachable!("checked above"),
    }
}
