//! The HTML a person sees: the login + consent page and error pages.
//!
//! Page contract (tests and real browsers rely on it): inputs `#username`
//! and `#password`, buttons `button[name=decision][value=approve]` and `[value=deny]`,
//! the client's name, the scopes in plain words, the lab users' passwords, a hidden
//! `request_id`, and `role="alert"` on error messages (read by the simulated
//! resource owner). No script runs and nothing loads from elsewhere.

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
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#eef1f6;color:#1c2331;margin:0}
.bar{background:#1c2331;color:#c9d1e0;font-size:.85rem;padding:.55rem 1rem;text-align:center}
.bar b{color:#fff}
main{max-width:34rem;margin:1.8rem auto 2.5rem;background:#fff;border-radius:14px;box-shadow:0 2px 16px #1c23311f;padding:1.7rem 2rem 1.5rem}
h1{font-size:1.4rem;line-height:1.3;margin:0 0 .35rem}
h2{font-size:1rem;margin:1.4rem 0 .5rem}
.app{display:flex;gap:.9rem;align-items:center;margin-bottom:1rem}
.avatar{flex:none;width:3rem;height:3rem;border-radius:12px;background:#2456d3;color:#fff;font-weight:700;font-size:1.15rem;display:flex;align-items:center;justify-content:center}
.sub{color:#5b6577;font-size:.92rem;margin:0}
code{font-family:ui-monospace,Menlo,Consolas,'DejaVu Sans Mono',monospace;background:#eef1f6;border-radius:4px;padding:0 .3rem;font-size:.86em;overflow-wrap:anywhere}
ul.scopes{list-style:none;padding:0;margin:0;border:1px solid #dde1ea;border-radius:10px}
ul.scopes li{display:flex;justify-content:space-between;gap:1rem;align-items:baseline;padding:.6rem .9rem;border-top:1px solid #eef0f4}
ul.scopes li:first-child{border-top:0}
ul.scopes li::before{content:'✓';color:#17803d;font-weight:700;margin-right:.6rem}
ul.scopes li span{flex:1}
label{display:block;font-weight:600;margin:.8rem 0 .25rem}
input{width:100%;padding:.6rem .7rem;border:1px solid #b8bfcc;border-radius:8px;font-size:1rem}
input:focus{outline:3px solid #2456d344;border-color:#2456d3}
.buttons{display:flex;gap:.8rem;margin-top:1.3rem}
button{flex:1;padding:.7rem;border-radius:8px;font-size:1rem;cursor:pointer;border:1px solid #b8bfcc;background:#fff;color:#1c2331}
button[value=approve]{flex:1.6;background:#2456d3;border-color:#2456d3;color:#fff;font-weight:600}
button:hover{filter:brightness(.95)}
ol.next{margin:0;padding-left:1.3rem;color:#3a4356;font-size:.93rem}
ol.next li{margin:.35rem 0}
.error{background:#fdeceb;border:1px solid #f0b4ae;border-radius:8px;padding:.65rem .85rem;color:#8a1c1c;margin:1rem 0 0}
.note{font-size:.88rem;color:#5b6577;margin:1rem 0 0}
table{border-collapse:collapse;font-size:.9rem;width:100%}
th{text-align:left;font-weight:600;color:#5b6577;font-size:.8rem;padding:.2rem .6rem .2rem 0}
td{padding:.3rem .6rem .3rem 0;border-top:1px solid #eef0f4}
footer{text-align:center;font-size:.85rem;color:#5b6577;margin:-1.5rem 0 2rem}
a{color:#2456d3}
";

fn page(status: u16, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>{title} · OAuth2 Lab</title><style>{STYLE}</style></head>\
         <body><div class=\"bar\"><b>OAuth2 Lab</b> · mock authorization server · a practice provider, \
         not a real account</div><main>{body}</main>\
         <footer>Every step of every flow: <a href=\"/_lab\">the inspector</a></footer></body></html>\n",
        title = escape(title),
    );
    Response::new(status, "text/html; charset=utf-8", html)
        // No scripts, nothing from elsewhere, never inside a frame (clickjacking);
        // `data:` images only for the empty icon, which saves a /favicon.ico request.
        .with_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
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

/// Up to two letters standing for the application, like an app icon.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// Who is asking, for what (the scopes in plain words), as whom, and what
/// happens next; then the login form and the lab users.
pub fn consent(c: &Consent) -> Response {
    let next = format!(
        "<li><b>Allow</b>: your browser goes back to the application at <code>{redirect}</code> \
         with a one-time code. The application trades the code for an access token and reads \
         only what is listed above.</li>\
         <li><b>Deny</b>: your browser goes back there with <code>error=access_denied</code>, \
         and the application gets nothing.</li>\
         <li>Either way, your password stays here with the provider: the application never \
         sees it. Check the address bar: this page belongs to the provider, not to the \
         application.</li>",
        redirect = escape(c.redirect_uri),
    );
    login_page(&LoginPage {
        client: c.client,
        scope: c.scope,
        users: c.users,
        error: c.error,
        username: c.username,
        action: "/authorize",
        hidden: ("request_id", c.request_id),
        check: String::new(),
        next: &next,
    })
}

/// What the device flow's login + consent page needs (RFC 8628 §3.3).
pub struct DeviceConsent<'a> {
    /// Normalized (eight letters); shown with its dash.
    pub user_code: &'a str,
    pub client: &'a Client,
    pub scope: Scopes,
    pub users: &'a [User],
    pub error: Option<&'a str>,
    pub username: &'a str,
}

/// The login + consent page of the device flow: the same page contract as
/// `/authorize`'s, with the user code to compare with the device's screen
/// (RFC 8628 §5.4: a person must not approve a code someone else sent them).
pub fn device_consent(d: &DeviceConsent) -> Response {
    let shown = crate::secrets::show_user_code(d.user_code);
    let check = format!(
        "<p class=\"note\">Code <code>{}</code>: it must be the code your device shows. If \
         someone sent you this code, or you did not start this on a device of yours, press \
         <b>Deny</b>.</p>",
        escape(&shown)
    );
    let next = "<li><b>Allow</b>: the device, which has been asking the provider every few \
         seconds, gets an access token on its next try and reads only what is listed above.</li>\
         <li><b>Deny</b>: the device is told <code>access_denied</code> and gets nothing.</li>\
         <li>Either way, your password stays here with the provider, on this phone or \
         computer: the device never sees it.</li>";
    login_page(&LoginPage {
        client: d.client,
        scope: d.scope,
        users: d.users,
        error: d.error,
        username: d.username,
        action: "/device",
        hidden: ("user_code", &shown),
        check,
        next,
    })
}

struct LoginPage<'a> {
    client: &'a Client,
    scope: Scopes,
    users: &'a [User],
    error: Option<&'a str>,
    username: &'a str,
    /// Where the form goes, and the one hidden field that names the request.
    action: &'a str,
    hidden: (&'a str, &'a str),
    /// Shown above the scopes (already HTML).
    check: String,
    /// The items of "What happens next" (already HTML).
    next: &'a str,
}

fn login_page(c: &LoginPage) -> Response {
    let scopes: String = c
        .scope
        .descriptions()
        .map(|(name, words)| {
            format!(
                "<li><span>{}</span><code>{}</code></li>",
                escape(words),
                escape(name)
            )
        })
        .collect();
    // Only the demo users: a class's own users keep their passwords to themselves.
    let users: String = c
        .users
        .iter()
        .filter(|u| u.is_demo())
        .map(|u| {
            format!(
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                escape(&u.username),
                escape(&u.password),
                escape(&u.name)
            )
        })
        .collect();
    let users = if users.is_empty() {
        users
    } else {
        format!(
            "<h2>The lab's demo users</h2>\
             <table><tr><th>username</th><th>password</th><th>name</th></tr>{users}</table>"
        )
    };
    let error = c
        .error
        // Class mode lists no user below.
        .map(|e| match users.is_empty() {
            true => e.trim_end_matches(" The lab users are listed below."),
            false => e,
        })
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let kind = if c.client.is_public() {
        "a public application (it proves itself with PKCE)"
    } else {
        "a confidential application (it has a client secret)"
    };
    let as_whom = if c.username.is_empty() && users.is_empty() {
        // Class mode: no demo user to point at.
        "Log in as the person whose data it wants: the username and password you were given."
            .to_string()
    } else if c.username.is_empty() {
        "Log in as the person whose data it wants. Use one of the lab users below.".to_string()
    } else {
        format!(
            "Log in as <strong>{}</strong>, or as another lab user.",
            escape(c.username)
        )
    };
    let body = format!(
        "<div class=\"app\"><div class=\"avatar\" aria-hidden=\"true\">{initials}</div><div>\
         <h1><strong>{name}</strong> wants to access your account</h1>\
         <p class=\"sub\"><code>{id}</code> · {kind}</p></div></div>{check}\
         <h2>If you allow it, {name} can:</h2>\
         <ul class=\"scopes\">{scopes}</ul>\
         <h2>Who are you?</h2>\
         <p class=\"sub\">{as_whom}</p>{error}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"{hidden_name}\" value=\"{hidden_value}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{username}\" autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
         <div class=\"buttons\">\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Log in and allow</button>\
         </div></form>\
         <h2>What happens next</h2>\
         <ol class=\"next\">{next}</ol>{users}",
        initials = escape(&initials(&c.client.name)),
        name = escape(&c.client.name),
        id = escape(&c.client.id),
        check = c.check,
        action = escape(c.action),
        hidden_name = escape(c.hidden.0),
        hidden_value = escape(c.hidden.1),
        username = escape(c.username),
        next = c.next,
    );
    page(200, &format!("Allow {}?", c.client.name), &body)
}

/// The verification page (RFC 8628 §3.3): where a person types the code their
/// device shows. `user_code` prefills the field (from `verification_uri_complete`).
pub fn device_entry(status: u16, user_code: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Connect a device</h1>\
         <p class=\"sub\">A device without a browser (a TV, a terminal over SSH, a command-line \
         program) asked to use your account, and shows a code. Type it here.</p>{error}\
         <form method=\"post\" action=\"/device\">\
         <label for=\"user_code\">Code shown on the device</label>\
         <input id=\"user_code\" name=\"user_code\" value=\"{code}\" placeholder=\"XXXX-XXXX\" \
         autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" autofocus>\
         <div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"continue\">Continue</button></div>\
         </form>\
         <p class=\"note\">Case, dashes and spaces do not matter. Codes live a few minutes; \
         the device shows a new one when it asks again (RFC 8628).</p>",
        code = escape(user_code),
    );
    page(status, "Connect a device", &body)
}

/// After the decision on the device flow's page: what the person does now.
pub fn device_done(approved: bool, client_name: &str) -> Response {
    let (title, text) = if approved {
        (
            "Device connected",
            format!(
                "You allowed {}. You may close this page and go back to your device: it \
                 gets its access token the next time it asks.",
                escape(client_name)
            ),
        )
    } else {
        (
            "Access denied",
            format!(
                "You denied {}. The device is told access_denied the next time it asks, and \
                 gets nothing. You may close this page.",
                escape(client_name)
            ),
        )
    };
    let body = format!("<h1>{title}</h1><p role=\"status\">{text}</p>");
    page(200, title, &body)
}

/// An error that must not be sent back to the client (RFC 6749 §4.1.2.1): the
/// person sees what went wrong, and the browser stays here.
pub fn error(status: u16, problem: &str, next: &str) -> Response {
    // The alert holds the problem as plain text: the simulated resource owner
    // (owner.rs) reads it up to the next tag.
    let body = format!(
        "<h1>This request cannot go on</h1>\
         <p class=\"error\" role=\"alert\">{}</p>\
         <h2>What happens now</h2><p>{}</p>\
         <p class=\"note\">The browser stays on this page: an answer is sent back to an \
         application only once its client_id and redirect_uri are known to be good \
         (RFC 6749 §4.1.2.1).</p>",
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
         <p>Metadata: <a href=\"/.well-known/oauth-authorization-server\">/.well-known/oauth-authorization-server</a>; \
         as an OpenID Provider: <a href=\"/.well-known/openid-configuration\">/.well-known/openid-configuration</a>, \
         its keys <a href=\"/.well-known/jwks.json\">/.well-known/jwks.json</a>. \
         Every flow, step by step: <a href=\"/_lab\">the inspector</a> \
         (as JSON: <a href=\"/_lab/events\">/_lab/events</a>).</p>\
         <p>A device without a browser (RFC 8628) asks <code>POST /device_authorization</code> \
         for a code; a person types it at <a href=\"/device\">/device</a>.</p>\
         <p>Clients</p><table>{clients}</table><p>Users</p><table>{users}</table>",
        issuer = escape(issuer)
    );
    page(200, "Mock provider", &body)
}
