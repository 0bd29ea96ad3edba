//! Routing: which path and method go to which protocol module, and the answers
//! shared by all of them (JSON, OAuth errors, 404, 405).

use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use crate::clock::millis;
use crate::config::Config;
use crate::http::{Handler, Request, Response};
use crate::params::Params;
use crate::secrets::same_secret;
use crate::store::Store;
use crate::trace::{Step, Trace};
use crate::{authorize, device, lab, metadata, pages, resource, revoke, token};

pub(crate) struct App {
    pub config: Config,
    /// The base URL, also the issuer identifier (RFC 8414 §2, RFC 9207).
    pub issuer: String,
    store: Mutex<Store>,
    pub trace: Trace,
}

impl App {
    pub fn new(config: Config, issuer: String) -> Self {
        App {
            trace: Trace::new(config.trace),
            config,
            issuer,
            store: Mutex::new(Store::default()),
        }
    }

    /// The time now, in milliseconds since the epoch, from the injected clock.
    pub fn now(&self) -> u64 {
        millis(self.config.clock.as_ref())
    }

    /// The store, purged of what has expired. Handlers hold it only while they
    /// compute an answer, never while reading or writing a socket.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store.purge(self.now());
        store
    }

    pub fn client_index(&self, id: &str) -> Option<usize> {
        self.config.clients.iter().position(|c| c.id == id)
    }

    pub fn user_index(&self, username: &str) -> Option<usize> {
        self.config
            .users
            .iter()
            .position(|u| u.username == username)
    }

    /// The user these credentials log in, as at a login form (`/authorize`, `/device`).
    pub fn log_in(&self, username: &str, password: &str) -> Option<usize> {
        self.user_index(username)
            .filter(|u| same_secret(&self.config.users[*u].password, password))
    }
}

/// Methods a path answers to, for 405's `Allow` header.
fn allowed(path: &str) -> Option<&'static str> {
    Some(match path {
        "/"
        | "/.well-known/oauth-authorization-server"
        | "/api/me"
        | "/api/posts"
        | "/_lab"
        | "/_lab/events" => "GET, HEAD",
        "/authorize" => "GET, HEAD, POST",
        "/token" | "/revoke" | "/device_authorization" => "POST",
        "/device" => "GET, HEAD, POST",
        _ => return None,
    })
}

impl Handler for App {
    fn handle(&self, req: &Request) -> Response {
        let method = if req.method == "HEAD" {
            "GET"
        } else {
            req.method.as_str()
        };
        let request_line = format!("{} {}", req.method, req.path);
        let mut step = Step::default();
        let response = match (method, req.path.as_str()) {
            ("GET", "/") => pages::index(&self.issuer, &self.config.clients, &self.config.users),
            ("GET", "/.well-known/oauth-authorization-server") => metadata::document(self),
            ("GET", "/authorize") => authorize::get(self, req, &mut step),
            ("POST", "/authorize") => authorize::post(self, req, &mut step),
            ("POST", "/token") => token::endpoint(self, req, &mut step),
            ("POST", "/revoke") => revoke::endpoint(self, req, &mut step),
            ("POST", "/device_authorization") => device::authorization(self, req, &mut step),
            ("GET", "/device") => device::page(self, req, &mut step),
            ("POST", "/device") => device::form(self, req, &mut step),
            ("GET", "/api/me") => resource::me(self, req, &mut step),
            ("GET", "/api/posts") => resource::posts(self, req, &mut step),
            ("GET", "/_lab") => lab::page(self),
            ("GET", "/_lab/events") => lab_events(self, req),
            (_, path) => match allowed(path) {
                Some(allow) => json_error(
                    405,
                    "invalid_request",
                    &format!("{path} answers {allow} only"),
                )
                .with_header("Allow", allow),
                None => json_error(
                    404,
                    "not_found",
                    &format!("nothing at {path}: see / for what this server offers"),
                ),
            },
        };
        // Reading the trace must not add to it.
        if !req.path.starts_with("/_lab") {
            if step.actor.is_empty() {
                step.actor = "someone".into();
            }
            if step.outcome.is_empty() {
                step.outcome = reason_of(&response);
            }
            self.trace
                .record(self.now(), request_line, response.status, step);
        }
        response
    }
}

/// A short description of an answer for the trace, when the handler gave none.
fn reason_of(response: &Response) -> String {
    serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| {
            let error = v.get("error")?.as_str()?.to_string();
            Some(match v.get("error_description").and_then(Value::as_str) {
                Some(d) => format!("{error}: {d}"),
                None => error,
            })
        })
        .unwrap_or_else(|| match response.status {
            200 => "ok".into(),
            s => format!("status {s}"),
        })
}

pub fn json(status: u16, value: &Value) -> Response {
    Response::new(status, "application/json", value.to_string())
}

/// An error body in the RFC 6749 §5.2 shape, also used by the other endpoints.
pub fn json_error(status: u16, error: &str, description: &str) -> Response {
    json(
        status,
        &json!({ "error": error, "error_description": description_text(description) }),
    )
}

/// RFC 6749 §4.1.2.1, §5.2 and RFC 6750 §3: an `error_description` holds only
/// printable ASCII without `"` and `\`. The provider's descriptions cite RFC
/// sections and quote what they got, so they are folded into that set here.
pub fn description_text(text: &str) -> String {
    text.replace('§', "section ")
        .replace('…', "...")
        .replace('—', "-")
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// Reads a form body (`application/x-www-form-urlencoded`), refusing anything
/// else and any parameter sent twice (RFC 6749 §3.2).
pub fn form_body(req: &Request) -> Result<Params, String> {
    let content_type = req.header("content-type")?.unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(format!(
            "the body must be application/x-www-form-urlencoded, not {:?}",
            if content_type.is_empty() {
                "nothing"
            } else {
                content_type
            }
        ));
    }
    let params = Params::parse(&req.body).map_err(|e| e.to_string())?;
    if let Some(name) = params.any_repeated() {
        return Err(format!(
            "parameter {name} is sent more than once (RFC 6749 §3.2)"
        ));
    }
    Ok(params)
}

/// `GET /_lab/events[?after=SEQ]`: the recorded steps, secrets already shortened.
fn lab_events(app: &App, req: &Request) -> Response {
    let after = match Params::parse(req.query.as_deref().unwrap_or("").as_bytes())
        .map(|p| p.get("after").map(|a| a.map(str::parse::<u64>)))
    {
        Ok(Ok(None)) => 0,
        Ok(Ok(Some(Ok(n)))) => n,
        _ => {
            return json_error(
                400,
                "invalid_request",
                "after must be a whole number (a seq from an earlier answer)",
            );
        }
    };
    let counts = app.store().counts();
    json(
        200,
        &json!({ "events": app.trace.since(after), "counts": counts }),
    )
    .with_header("Cache-Control", "no-store")
}
