//! Routing, the top layer: which path and method go to which endpoint, `404`
//! and `405` (with `Allow`) for the rest, and one trace step per request.

use serde_json::Value;

use crate::endpoint::json_error;
use crate::http::{Handler, Request, Response};
use crate::state::App;
use crate::trace::Step;
use crate::{authorize, device, lab, metadata, pages, resource, revoke, token};

/// Methods a path answers to, for 405's `Allow` header.
fn allowed(path: &str) -> Option<&'static str> {
    Some(match path {
        "/"
        | "/.well-known/oauth-authorization-server"
        | "/api/me"
        | "/api/posts"
        | "/_lab"
        | "/_lab/events"
        | "/_lab/class" => "GET, HEAD",
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
            ("GET", "/_lab/events") => lab::events(self, req),
            ("GET", "/_lab/class") => lab::class(self),
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
