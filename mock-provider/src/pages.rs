//! The HTML a person sees: the login + consent page and error pages.
//!
//! Page contract (DESIGN D5; tests and real browsers rely on it): inputs `#username`
//! and `#password`, buttons `button[name=decision][value=approve]` and `[value=deny]`,
//! the client's name, the scopes in plain words and the lab users' passwords.
//! No script runs and nothing loads from elsewhere.

use crate::config::{Client, Scopes, User};
use crate::http::Response;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f3f4f8;color:#1d2330;margin:0}
main{max-width:30rem;margin:2.5rem auto;background:#fff;border-radius:12px;box-shadow:0 2px 14px #0002;padding:1.6rem 2rem}
header{font-size:.85rem;color:#5a6478;letter-spacing:.03em;text-transform:uppercase;margin-bottom:.4rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.3rem 0}
code{background:#eef0f5;border-radius:4px;padding:0 .25rem;font-size:.9em;word-break:break-all}
label{display:block;font-weight:600;margin:.8rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #b8bfcc;border-radius:6px;font-size:1rem}
.buttons{display:flex;gap:.8rem;margin-top:1.2rem}
button{flex:1;padding:.65rem;border-radius:6px;font-size:1rem;cursor:pointer;border:1px solid #b8bfcc;background:#fff}
button[value=approve]{background:#2456d3;border-color:#2456d3;color:#fff;font-weight:600}
.note{font-size:.85rem;color:#5a6478;margin-top:1.2rem}
.error{background:#fdecec;border:1px solid #e6a5a5;border-radius:6px;padding:.6rem .8rem;color:#8a1c1c}
table{border-collapse:collapse;font-size:.85rem}td{padding:.15rem .6rem .15rem 0}
";

fn page(status: u16, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · OAuth2 Lab</title><style>{STYLE}</style></head>\
         <body><main><header>OAuth2 Lab · mock authorization server</header>{body}</main></body></html>\n",
        title = escape(title),
    );
    Response::new(status, "text/html; charset=utf-8", html)
        // No scripts, nothing from elsewhere, never inside a frame (clickjacking).
        .with_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        )
        .with_header("X-Frame-Options", "DENY")
        .with_header("Referrer-Policy", "no-referrer")
        .with_header("Cache-Control", "no-store")
}

/// What the consent page needs to know about the pending request.
pub struct Consent<'a> {
    pub request_id: &'a str,
    pub client: &'a Client,
    pub scope: Scopes,
    pub redirect_uri: &'a str,
    pub users: &'a [User],
    /// Shown above the form after a failed login.
    pub error: Option<&'a str>,
    pub username: &'a str,
}

pub fn consent(c: &Consent) -> Response {
    let scopes: String = c
        .scope
        .descriptions()
        .map(|(name, words)| format!("<li>{} <code>{}</code></li>", escape(words), escape(name)))
        .collect();
    let users: String = c
        .users
        .iter()
        .map(|u| {
            format!(
                "<tr><td><code>{}</code></td><td>password <code>{}</code></td></tr>",
                escape(&u.username),
                escape(&u.password)
            )
        })
        .collect();
    let error = c
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1><strong>{name}</strong> wants to access your account</h1>\
         <p>If you allow it, <strong>{name}</strong> (<code>{id}</code>) will be able to:</p>\
         <ul class=\"scopes\">{scopes}</ul>{error}\
         <form method=\"post\" action=\"/authorize\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{username}\" autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
         <div class=\"buttons\">\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Log in and allow</button>\
         </div></form>\
         <p class=\"note\">Your password stays here: {name} never sees it. Whichever you choose, \
         your browser goes back to <code>{redirect}</code>.</p>\
         <p class=\"note\">Lab users (this is a practice server):</p><table>{users}</table>",
        name = escape(&c.client.name),
        id = escape(&c.client.id),
        request_id = escape(c.request_id),
        username = escape(c.username),
        redirect = escape(c.redirect_uri),
    );
    page(200, &format!("Allow {}?", c.client.name), &body)
}

/// An error that must not be sent back to the client (RFC 6749 §4.1.2.1): the
/// person sees what went wrong, and the browser stays here.
pub fn error(status: u16, problem: &str, next: &str) -> Response {
    let body = format!(
        "<h1>This request cannot go on</h1><p class=\"error\" role=\"alert\">{}</p><p>{}</p>",
        escape(problem),
        escape(next)
    );
    page(status, "Request refused", &body)
}

/// The provider's front page: where to start.
pub fn index(issuer: &str, clients: &[Client], users: &[User]) -> Response {
    let clients: String = clients
        .iter()
        .map(|c| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape(&c.id),
                if c.is_public() {
                    "public, PKCE S256 required"
                } else {
                    "confidential"
                }
            )
        })
        .collect();
    let users: String = users
        .iter()
        .map(|u| {
            format!(
                "<tr><td><code>{}</code></td><td>{} posts</td></tr>",
                escape(&u.username),
                u.posts
            )
        })
        .collect();
    let body = format!(
        "<h1>Mock provider at <code>{issuer}</code></h1>\
         <p>Metadata: <a href=\"/.well-known/oauth-authorization-server\">/.well-known/oauth-authorization-server</a>. \
         Protocol steps so far: <a href=\"/_lab/events\">/_lab/events</a>.</p>\
         <p>Clients</p><table>{clients}</table><p>Users</p><table>{users}</table>",
        issuer = escape(issuer)
    );
    page(200, "Mock provider", &body)
}
