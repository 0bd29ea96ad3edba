//! # labkit
//!
//! What OAuth2 Lab's lesson programs share but students need not read:
//! command-line arguments, choosing a provider, numbered step lines, the local
//! listener, pages shown in the browser, and the types in [`types`].
//! A student's `src/lib.rs` holds only the OAuth logic of their lesson.

pub mod flow;
mod listener;
mod loopback;
pub mod types;

use std::io::Cursor;
use std::process::ExitCode;

pub use flow::{Cli, ClientKind, Flow, PortArgs, Provider};
pub use listener::{ListenLimits, Listener, Request};
pub use loopback::{listen_loopback, listen_loopback_with};
pub use types::*;

/// Any error a lesson program stops on: one line saying what happened and what to do.
#[derive(Debug)]
pub struct LabError(pub String);

impl<E: std::fmt::Display> From<E> for LabError {
    fn from(e: E) -> Self {
        LabError(e.to_string())
    }
}

/// Runs a lesson program: errors become one line and exit status 1; an
/// unfinished step (`todo!`) becomes its message and exit status 2, not a
/// wall of panic text.
pub fn run(program: impl FnOnce() -> Result<(), LabError> + std::panic::UnwindSafe) -> ExitCode {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = panic_message(info.payload());
        match message.strip_prefix("not yet implemented: ") {
            Some(todo) => eprintln!("Not written yet: {todo}"),
            None => default_hook(info),
        }
    }));
    match std::panic::catch_unwind(program) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(LabError(message))) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
        Err(payload) if panic_message(payload.as_ref()).starts_with("not yet implemented") => {
            ExitCode::from(2)
        }
        Err(_) => ExitCode::from(101),
    }
}

/// The text of a panic, whether it was raised with a literal or a formatted message.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

/// Binds the local listener on 127.0.0.1 (never 0.0.0.0: only this machine may
/// call it). Port 0 lets the system pick a free port.
pub fn listen(port: u16) -> Result<Listener, LabError> {
    listen_with(port, ListenLimits::default())
}

/// [`listen`] with other bounds (tests make them small).
pub fn listen_with(port: u16, limits: ListenLimits) -> Result<Listener, LabError> {
    let bound = std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            LabError(format!(
                "port {port} is in use: stop the other program or use --port 0"
            ))
        } else if e.kind() == std::io::ErrorKind::PermissionDenied {
            // Windows reserves ranges of ports (for Hyper-V, say) and refuses them.
            LabError(format!(
                "port {port} is not allowed here (the system reserves it): use --port 0"
            ))
        } else {
            LabError(format!("cannot listen on 127.0.0.1:{port}: {e}"))
        }
    })?;
    Listener::start(bound, limits)
        .map_err(|e| LabError(format!("cannot listen on 127.0.0.1:{port}: {e}")))
}

/// The course program running: `lesson05` or `solution05` from the name of
/// the executable (`cargo run -p lesson05` runs `lesson05`, a test binary is
/// `lesson05-<hash>`), else `labkit`.
fn program() -> String {
    let stem = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    ["lesson", "solution"]
        .iter()
        .find_map(|prefix| {
            let digits = stem.strip_prefix(prefix)?.get(..2)?;
            digits
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| format!("{prefix}{digits}"))
        })
        .unwrap_or_else(|| "labkit".into())
}

/// The `User-Agent` of labkit's own requests, `oauth2-lab/lesson05 (client
/// lab-client)`: in class, the provider's inspector shows which lesson a flow
/// comes from.
pub(crate) fn user_agent(client_id: &str) -> String {
    // Only what a header value may hold, and no parenthesis to end the comment early.
    let client_id: String = client_id
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '(' | ')'))
        .collect();
    if client_id.is_empty() {
        format!("oauth2-lab/{}", program())
    } else {
        format!("oauth2-lab/{} (client {client_id})", program())
    }
}

/// `GET {api_url}/me` with the access token, for a program's last line ("Signed
/// in as …"); `None` when the API refuses the token (401). Lesson 05 teaches
/// API calls; the later lessons' programs use this one.
pub fn read_profile(api_url: &str, token: &Secret) -> Result<Option<Profile>, LabError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .user_agent(user_agent(""))
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .get(&format!("{api_url}/me"))
        .header("Authorization", &format!("Bearer {}", token.expose()))
        .call()
        .map_err(|e| format!("GET {api_url}/me failed ({e}): check --api-url"))?;
    let body = response.body_mut().read_to_string()?;
    match response.status().as_u16() {
        200 => serde_json::from_str(&body).map(Some).map_err(|e| {
            format!("{api_url}/me did not answer a profile ({e}): check --api-url").into()
        }),
        401 => Ok(None),
        status => Err(LabError(format!(
            "GET {api_url}/me answered HTTP {status} ({}…): check --api-url and --scope",
            body_start(&body)
        ))),
    }
}

/// The port a listener is bound to: labkit's own, or a `tiny_http::Server`.
pub fn port_of(server: &impl BoundPort) -> u16 {
    server.bound_port()
}

/// A server that knows the port it is bound to.
pub trait BoundPort {
    fn bound_port(&self) -> u16;
}

impl BoundPort for Listener {
    fn bound_port(&self) -> u16 {
        self.server_addr().to_ip().map(|a| a.port()).unwrap_or(0)
    }
}

impl BoundPort for tiny_http::Server {
    fn bound_port(&self) -> u16 {
        self.server_addr().to_ip().map(|a| a.port()).unwrap_or(0)
    }
}

impl<T: BoundPort> BoundPort for std::sync::Arc<T> {
    fn bound_port(&self) -> u16 {
        (**self).bound_port()
    }
}

/// A page for the browser: plain HTML that loads nothing from elsewhere, is
/// not cached, and sends no `Referer` onwards (the URL it answers carries the code).
/// A 2xx page is marked as good news, anything else as a warning.
pub fn page(status: u16, title: &str, message: &str) -> tiny_http::Response<Cursor<Vec<u8>>> {
    html_page(status, (200..300).contains(&status), title, message)
}

/// A page with bad news (no permission, a refusal), marked as a warning. Its
/// status is still 200: the listener did its job; the news is in the page.
pub fn notice(title: &str, message: &str) -> tiny_http::Response<Cursor<Vec<u8>>> {
    html_page(200, false, title, message)
}

fn html_page(
    status: u16,
    good: bool,
    title: &str,
    message: &str,
) -> tiny_http::Response<Cursor<Vec<u8>>> {
    let (mark, colour) = if good {
        ("✓", "#1a7f37")
    } else {
        ("!", "#b54708")
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\"><title>{title}</title><style>\
         body{{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f3f4f8;color:#1d2330;margin:0}}\
         header{{background:#1d2330;color:#dfe3ec;font-size:.9rem;padding:.55rem 1rem;text-align:center}}\
         main{{max-width:30rem;margin:2.5rem auto;background:#fff;border-radius:12px;box-shadow:0 2px 14px #0002;padding:1.8rem 2rem;text-align:center}}\
         .mark{{display:inline-block;width:3rem;height:3rem;line-height:3rem;border-radius:50%;color:#fff;font-size:1.6rem;font-weight:700;background:{colour}}}\
         h1{{font-size:1.4rem;margin:1rem 0 .6rem}}p{{line-height:1.5;margin:.4rem 0}}\
         .note{{color:#5a6478;font-size:.9rem;margin-top:1.2rem}}</style></head>\
         <body><header><strong>OAuth2 Lab</strong> · the program's local listener on this computer</header>\
         <main><div class=\"mark\">{mark}</div><h1>{title}</h1><p>{message}</p>\
         <p class=\"note\">This page came from the program on your computer, not from the provider.</p></main></body></html>",
        title = mock_provider::escape_html(title),
        message = mock_provider::escape_html(message),
    );
    let header =
        |name: &str, value: &str| tiny_http::Header::from_bytes(name, value).expect("valid header");
    tiny_http::Response::from_string(html)
        .with_status_code(status)
        .with_header(header("Content-Type", "text/html; charset=utf-8"))
        .with_header(header("Referrer-Policy", "no-referrer"))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        ))
}
