//! Routing, the top layer: which path and method go to which endpoint, `404`
//! and `405` (with `Allow`) for the rest, and one trace step per request.
//!
//! Before any route, the `Host` header (RFC 9110 §7.2) must name this provider:
//! a page on another site whose name an attacker points at 127.0.0.1 (DNS
//! rebinding) is same-origin with that name in the browser, so without this
//! check it could read `/_lab/events` or run flows as the demo users. Any other
//! Host gets `421 Misdirected Request` (RFC 9110 §15.5.20) and nothing else.
//! Every answer says `X-Content-Type-Options: nosniff`, so a browser never
//! reads a JSON or text answer as a page or a script.

use serde_json::Value;

use crate::endpoint::json_error;
use crate::http::{Handler, Request, Response};
use crate::state::App;
use crate::trace::Step;
use crate::{authorize, device, lab, metadata, oidc, pages, resource, revoke, token};

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
        "/.well-known/openid-configuration" | "/.well-known/jwks.json" => "GET, HEAD",
        "/userinfo" => "GET, HEAD, POST",
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
        let host = req.header("host").ok().flatten();
        let response = match (method, req.path.as_str()) {
            _ if !host.is_some_and(|h| self.is_own_host(h)) => misdirected(self, host, &mut step),
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
            ("GET", "/.well-known/openid-configuration") => oidc::discovery(self),
            ("GET", "/.well-known/jwks.json") => oidc::jwks(self),
            ("GET", "/userinfo") => oidc::userinfo(self, req, &mut step),
            ("POST", "/userinfo") => oidc::userinfo(self, req, &mut step),
            ("GET", "/_lab") => lab::page(self, req),
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
        let response = if response.header("X-Content-Type-Options").is_none() {
            response.with_header("X-Content-Type-Options", "nosniff")
        } else {
            response
        };
        // Reading the trace must not add to it.
        if !req.path.starts_with("/_lab") {
            if step.actor.is_empty() {
                step.actor = "someone".into();
            }
            if step.outcome.is_empty() {
                step.outcome = reason_of(&response);
            }
            // The course's programs announce their lesson here (`oauth2-lab/lesson05`).
            step.agent = req.header("user-agent").ok().flatten().map(str::to_string);
            self.trace
                .record(self.now(), request_line, response.status, step);
        }
        response
    }
}

/// The answer to a request for another host: 421, naming the addresses to use.
fn misdirected(app: &App, host: Option<&str>, step: &mut Step) -> Response {
    let got = match host {
        // What was sent may be anything: cut it short.
        Some(h) => format!("Host {:?}", h.chars().take(80).collect::<String>()),
        None => "no Host header".to_string(),
    };
    step.outcome = format!("refused: {got} is not this provider (DNS rebinding defence)");
    json_error(
        421,
        "misdirected_request",
        &format!(
            "this provider answers only as {}, not to a request with {got}: use one of those addresses, or start it with --allow-host NAME (book/src/appendix/mock-provider.md)",
            app.own_hosts().join(", ")
        ),
    )
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
