//! The inspector, `GET /_lab`: every flow the provider has seen, as a timeline;
//! and `GET /_lab/events`, the recorded steps as JSON.
//!
//! One card per flow (the steps that share a flow number, from `/authorize` to
//! the API calls), newest first. The page is rendered here from the recorded
//! events, whose secrets are already shortened, so it reads the same without a
//! script; a small inline script polls `GET /_lab/events?after=SEQ` and, when
//! there is something new, fetches this page again and swaps the flows in.
//! The script and the style are allowed by their hashes: nothing else runs and
//! nothing loads from elsewhere, so the page works offline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::UNIX_EPOCH;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::endpoint::{DEVICE_GRANT_TYPE, json, json_error};
use crate::http::{Request, Response};
use crate::pages::escape;
use crate::params::Params;
use crate::state::App;
use crate::trace::Event;

/// Flows shown, newest first; older ones stay in `/_lab/events` until dropped.
const SHOWN_FLOWS: usize = 20;
/// Steps outside any flow shown, the latest ones.
const SHOWN_LOOSE: usize = 10;
/// A long flow (say, 137 pages of posts) shows its first and last steps and a
/// count of the rest, so the card stays readable.
const HEAD_STEPS: usize = 7;
const TAIL_STEPS: usize = 4;

const STYLE: &str = r#"
:root{--ink:#1c2331;--muted:#5b6577;--line:#dde1ea;--bg:#f2f4f8;--ok:#17803d;--ok-bg:#e5f5eb;--bad:#b42318;--bad-bg:#fdeceb;--wait:#1d4ed8;--wait-bg:#e8efff;--todo:#8a93a3}
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:var(--bg);color:var(--ink);margin:0}
code,.mono{font-family:ui-monospace,'SFMono-Regular',Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:.88em}
a{color:var(--wait)}
.wrap{max-width:76rem;margin:0 auto;padding:1.2rem 1.5rem 3rem}
.top{display:flex;flex-wrap:wrap;gap:.6rem 2rem;align-items:flex-end;justify-content:space-between;border-bottom:1px solid var(--line);padding-bottom:.9rem}
.top h1{font-size:1.5rem;margin:0}
.top p{margin:.2rem 0 0;color:var(--muted)}
.kicker{font-size:.8rem;letter-spacing:.06em;text-transform:uppercase;color:var(--muted)}
.live{margin:0;padding:.3rem .8rem;border-radius:99px;font-size:.85rem;background:#fff;border:1px solid var(--line);color:var(--muted)}
.live.on{color:var(--ok);border-color:#a7d8b8}.live.on::before{content:'● '}
.live.off{color:var(--bad);border-color:#f0b4ae}
.facts{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:.9rem 0;color:var(--muted);font-size:.92rem}
.facts b{color:var(--ink)}
.legend{background:#fff;border:1px solid var(--line);border-radius:10px;padding:.7rem 1rem;font-size:.92rem;color:var(--muted);margin:0 0 1.2rem}
.flow{background:#fff;border:1px solid var(--line);border-radius:12px;box-shadow:0 1px 4px #0000000d;margin:0 0 1.4rem;overflow:hidden}
.flow>header{padding:.9rem 1.2rem .6rem;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;align-items:baseline;justify-content:space-between}
.flow h2{font-size:1.15rem;margin:0}
.flow h2 .n{color:var(--muted);font-weight:600;margin-right:.4rem}
.who{margin:.15rem 0 0;color:var(--muted);font-size:.92rem}
.who b{color:var(--ink)}
.state{margin:0;font-weight:600;padding:.25rem .75rem;border-radius:8px;font-size:.92rem}
.state.done{background:var(--ok-bg);color:var(--ok)}.state.failed{background:var(--bad-bg);color:var(--bad)}.state.waiting{background:var(--wait-bg);color:var(--wait)}
.stages{display:grid;grid-template-columns:repeat(5,1fr);list-style:none;margin:0;padding:0 1.2rem .9rem;gap:.4rem}
.stages li{border-top:5px solid var(--line);padding-top:.35rem;font-size:.84rem;color:var(--todo)}
.stages li b{display:block;font-size:.9rem}
.stages .done{border-color:var(--ok);color:var(--ok)}.stages .failed{border-color:var(--bad);color:var(--bad)}.stages .waiting{border-color:var(--wait);color:var(--wait)}
.stages .waiting b::after{content:' …'}
.steps{list-style:none;margin:0;padding:0;border-top:1px solid var(--line)}
.step{display:grid;grid-template-columns:7.2rem 1fr;gap:0 1rem;padding:.65rem 1.2rem;border-bottom:1px solid #eef0f4}
.step:last-child{border-bottom:0}
.step.leg{background:#fafbfd}
.when{color:var(--muted);font-size:.85rem}
.when .rel{display:block;font-size:.8rem}
.line{display:flex;flex-wrap:wrap;gap:.3rem .7rem;align-items:baseline}
.parties{font-weight:600}
.parties .arrow{color:var(--muted);font-weight:400;margin:0 .3rem}
.req{background:#eef1f6;border-radius:5px;padding:.05rem .4rem}
.status{font-weight:700;font-size:.82rem;border-radius:5px;padding:.05rem .45rem}
.s2{background:var(--ok-bg);color:var(--ok)}.s3{background:var(--wait-bg);color:var(--wait)}.s4,.s5{background:var(--bad-bg);color:var(--bad)}.s0{background:#eef0f4;color:var(--muted)}
.why{margin:.2rem 0 0;color:var(--muted);font-size:.9rem}
.params{display:flex;flex-wrap:wrap;gap:.3rem;margin:.35rem 0 0;padding:0;list-style:none}
.params li{background:#f4f6fa;border:1px solid #e3e7ee;border-radius:6px;padding:.05rem .45rem;font-size:.86rem;max-width:100%;overflow-wrap:anywhere}
.params li span{color:var(--muted);margin-right:.35rem}
.outcome{margin:.3rem 0 0;font-size:.92rem}
.outcome::before{content:'⇒ ';color:var(--muted)}
.bad .outcome{color:var(--bad)}
.gap{padding:.55rem 1.2rem;color:var(--muted);font-size:.9rem;background:#fafbfd;border-bottom:1px solid #eef0f4}
.empty{background:#fff;border:1px dashed #b9c1cf;border-radius:12px;padding:1.2rem 1.4rem}
.empty code{overflow-wrap:anywhere}
.fresh{animation:fresh 2.5s ease-out}
@keyframes fresh{from{background:#fff6c9}to{background:transparent}}
footer{margin-top:2rem;color:var(--muted);font-size:.88rem}
.picker{display:flex;flex-wrap:wrap;gap:.3rem .5rem;align-items:center;margin:.9rem 0 0;font-size:.9rem}
.picker span{color:var(--muted)}
.picker a{padding:.1rem .55rem;border:1px solid var(--line);border-radius:99px;background:#fff;text-decoration:none}
.picker a.on{background:var(--wait);border-color:var(--wait);color:#fff}
@media (max-width:50rem){.stages{grid-template-columns:1fr 1fr}.step{grid-template-columns:1fr}}
"#;

const SCRIPT: &str = r#"
"use strict";
(function () {
  var seq = Number(document.body.getAttribute("data-seq")) || 0;
  var live = document.getElementById("live");
  function say(text, kind) { live.textContent = text; live.className = "live " + kind; }
  function swapIn() {
    return fetch(location.pathname + location.search, { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["facts", "flows"].forEach(function (id) {
          var fresh = doc.getElementById(id), old = document.getElementById(id);
          if (fresh && old) { old.replaceWith(document.adoptNode(fresh)); }
        });
        var before = seq;
        seq = Number(doc.body.getAttribute("data-seq")) || seq;
        document.querySelectorAll(".step[data-seq]").forEach(function (el) {
          if (Number(el.getAttribute("data-seq")) > before) { el.classList.add("fresh"); }
        });
      });
  }
  function tick() {
    fetch("/_lab/events?after=" + seq, { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (answer) { return answer.events.length ? swapIn() : null; })
      .then(function () { say("Live: new steps appear as they happen", "on"); },
            function () { say("The provider is not answering: is it still running? Trying again…", "off"); })
      .then(function () { setTimeout(tick, 1000); });
  }
  say("Live: new steps appear as they happen", "on");
  setTimeout(tick, 1000);
})();
"#;

/// The page's policy: only this page's own script and style, requests only to
/// this provider, never inside a frame.
static POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = |text: &str| format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text)));
    format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src data:; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        hash(SCRIPT),
        hash(STYLE)
    )
});

/// The `student` a request filters by (`?student=NAME`); `Err` for a bad query.
fn student_param(req: &Request) -> Result<Option<String>, ()> {
    let params = Params::parse(req.query.as_deref().unwrap_or("").as_bytes()).map_err(|_| ())?;
    match params.get("student") {
        Ok(v) => Ok(v.map(str::to_string)),
        Err(_) => Err(()),
    }
}

/// A course program's announcement in its `User-Agent`, `oauth2-lab/lesson05
/// (client student01-app)`: the program, and the client id it plays.
fn announced(agent: &str) -> Option<(&str, Option<&str>)> {
    let rest = agent.strip_prefix("oauth2-lab/")?;
    let (program, more) = rest.split_once(' ').unwrap_or((rest, ""));
    let client = more
        .trim()
        .strip_prefix("(client ")
        .and_then(|c| c.strip_suffix(')'));
    Some((program, client))
}

/// The client id of a flow: the one its requests name, or the one that traded
/// its code or called the API.
fn flow_client<'a>(steps: &[&'a Event]) -> &'a str {
    steps
        .iter()
        .find_map(|e| param(e, "client_id"))
        .or_else(|| {
            steps
                .iter()
                .find(|e| {
                    matches!(
                        kind(e),
                        Kind::Code | Kind::Refresh | Kind::DevicePoll | Kind::Api
                    )
                })
                .map(|e| e.actor.as_str())
        })
        .unwrap_or("")
}

/// The lesson a flow comes from: announced by one of its own requests, or else
/// by the latest announcement for its client before the flow began (a
/// program reads the provider's metadata before it sends the browser off).
/// In class mode only a student's own client is looked up so: a client
/// every student shares (`lab-client`) would lend one student's lesson to another.
fn flow_lesson<'a>(app: &App, all: &'a [Event], steps: &[&'a Event]) -> Option<&'a str> {
    if let Some(program) = steps
        .iter()
        .find_map(|e| e.agent.as_deref().and_then(announced).map(|(p, _)| p))
    {
        return Some(program);
    }
    let client = flow_client(steps);
    let first = steps.first()?.seq;
    let shared = app
        .config
        .class
        .as_ref()
        .is_some_and(|c| c.student_of_client(client).is_none());
    if client.is_empty() || shared {
        return None;
    }
    all.iter()
        .rev()
        .filter(|e| e.seq < first)
        .filter_map(|e| e.agent.as_deref().and_then(announced))
        .find(|(_, c)| *c == Some(client))
        .map(|(p, _)| p)
}

/// The student a flow belongs to: whoever logged in, else the student whose
/// client it is (so a flow is named before the login).
fn flow_student<'a>(app: &'a App, steps: &[&'a Event]) -> Option<&'a str> {
    steps.iter().find_map(|e| e.user.as_deref()).or_else(|| {
        app.config
            .class
            .as_ref()
            .and_then(|c| c.student_of_client(flow_client(steps)))
    })
}

/// True when a step outside any flow is about `student`: it names them, or
/// one of their clients (as a parameter, as the caller, or in its program's
/// announcement).
fn loose_of(app: &App, e: &Event, student: &str) -> bool {
    e.user.as_deref() == Some(student)
        || app.config.class.as_ref().is_some_and(|c| {
            let announced = e.agent.as_deref().and_then(announced).and_then(|(_, c)| c);
            [param(e, "client_id"), Some(e.actor.as_str()), announced]
                .into_iter()
                .flatten()
                .any(|client| c.student_of_client(client) == Some(student))
        })
}

/// The flows of `events`, by number, and the steps outside any, kept to
/// `student`'s when one is given.
type Grouped<'a> = (BTreeMap<u64, Vec<&'a Event>>, Vec<&'a Event>);

fn group<'a>(app: &'a App, events: &'a [Event], student: Option<&str>) -> Grouped<'a> {
    let mut flows: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    let mut loose = Vec::new();
    for event in events {
        match event.flow {
            Some(flow) => flows.entry(flow).or_default().push(event),
            None => loose.push(event),
        }
    }
    if let Some(student) = student {
        flows.retain(|_, steps| flow_student(app, steps) == Some(student));
        loose.retain(|e| loose_of(app, e, student));
    }
    (flows, loose)
}

/// `GET /_lab[?student=NAME]`.
pub fn page(app: &App, req: &Request) -> Response {
    let Ok(student) = student_param(req) else {
        return json_error(
            400,
            "invalid_request",
            "student must be given once, as ?student=NAME",
        );
    };
    let events = app.trace.since(0);
    let last_seq = events.last().map_or(0, |e| e.seq);
    let (flows, loose) = group(app, &events, student.as_deref());
    let counts = app.store().counts();
    let mut facts = String::new();
    let _ = write!(
        facts,
        "<div class=\"facts\" id=\"facts\"><span><b>{}</b> seen</span>\
         <span>held now: <b>{}</b> · <b>{}</b> · <b>{}</b> · <b>{}</b> · <b>{}</b> · <b>{}</b></span></div>",
        plural(flows.len(), "flow", "flows"),
        plural(counts.pending, "login form waiting", "login forms waiting"),
        plural(counts.codes, "code", "codes"),
        plural(counts.grants, "grant", "grants"),
        plural(counts.access_tokens, "access token", "access tokens"),
        plural(counts.refresh_tokens, "refresh token", "refresh tokens"),
        plural(counts.device_codes, "device code", "device codes"),
    );
    let mut body = String::from("<div id=\"flows\">");
    if flows.is_empty() {
        match &student {
            Some(name) => {
                let _ = write!(
                    body,
                    "<div class=\"empty\"><h2>No flow of {} yet</h2><p>Their flows appear here once \
                     their program sends the browser to the provider with one of their client ids, \
                     or they log in.</p></div>",
                    escape(name)
                );
            }
            None => body.push_str(&empty_state(app)),
        }
    }
    for (flow, steps) in flows.iter().rev().take(SHOWN_FLOWS) {
        body.push_str(&flow_card(app, &events, *flow, steps));
    }
    if flows.len() > SHOWN_FLOWS {
        let _ = write!(
            body,
            "<p class=\"gap\">{} older flows are not shown here; \
             <a href=\"/_lab/events\">/_lab/events</a> has every step still kept.</p>",
            flows.len() - SHOWN_FLOWS
        );
    }
    if !loose.is_empty() {
        body.push_str(&loose_card(&loose));
    }
    body.push_str("</div>");

    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>Inspector · OAuth2 Lab</title><style>{STYLE}</style></head>\
         <body data-seq=\"{last_seq}\"><div class=\"wrap\">\
         <header class=\"top\"><div><div class=\"kicker\">OAuth2 Lab · mock provider</div>\
         <h1>Inspector: every flow, step by step</h1>\
         <p>What the provider at <code>{issuer}</code> has seen{whose}, newest flow first.</p></div>\
         <p class=\"live\" id=\"live\">Reload the page to see new steps.</p></header>\
         {picker}{facts}\
         <p class=\"legend\">A flow runs left to right: the application sends the browser to \
         <b>/authorize</b>, the person logs in and decides, the browser carries the answer back \
         to the application's loopback listener, the application trades the code at \
         <b>/token</b> and calls the <b>API</b> with the access token. Secrets (codes, tokens, \
         verifiers, client secrets) are shown shortened, like <code>lab_code_Xy12…</code>: \
         enough to tell them apart, never enough to use them.</p>\
         {body}\
         <footer>The same steps as JSON: <a href=\"/_lab/events\">/_lab/events</a> \
         (<code>?after=SEQ</code> for the new ones) · <a href=\"/\">start page</a></footer>\
         </div><script>{SCRIPT}</script></body></html>\n",
        issuer = escape(&app.issuer),
        whose = student
            .as_deref()
            .map(|s| format!(" of <b>{}</b>", escape(s)))
            .unwrap_or_default(),
        picker = student_picker(app, student.as_deref()),
    );
    lab_page(html, &POLICY)
}

/// In class mode, a link per student to their flows alone.
fn student_picker(app: &App, chosen: Option<&str>) -> String {
    if app.config.class.is_none() {
        return String::new();
    }
    let mut out = String::from("<nav class=\"picker\"><span>Student:</span>");
    let link = |href: &str, text: &str, on: bool| {
        format!(
            "<a href=\"{}\"{}>{}</a>",
            escape(href),
            if on {
                " class=\"on\" aria-current=\"page\""
            } else {
                ""
            },
            escape(text)
        )
    };
    out.push_str(&link("/_lab", "everyone", chosen.is_none()));
    for user in &app.config.users {
        let href = format!("/_lab?student={}", user.username);
        out.push_str(&link(
            &href,
            &user.username,
            chosen == Some(user.username.as_str()),
        ));
    }
    out.push_str("</nav>");
    out
}

/// `GET /_lab/events[?after=SEQ][&student=NAME]`: the recorded steps, secrets
/// already shortened; with `student`, only the steps of that student's flows
/// and the steps outside any flow that name them.
pub fn events(app: &App, req: &Request) -> Response {
    let Ok(student) = student_param(req) else {
        return json_error(
            400,
            "invalid_request",
            "student must be given once, as ?student=NAME",
        );
    };
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
    let mut events = app.trace.since(0);
    if let Some(student) = &student {
        let flows: Vec<u64> = group(app, &events, Some(student)).0.into_keys().collect();
        events.retain(|e| match e.flow {
            Some(flow) => flows.contains(&flow),
            None => loose_of(app, e, student),
        });
    }
    events.retain(|e| e.seq > after);
    json(200, &json!({ "events": events, "counts": counts }))
        .with_header("Cache-Control", "no-store")
}

fn empty_state(app: &App) -> String {
    if app.config.class.is_some() {
        return "<div class=\"empty\"><h2>No flow yet</h2>\
                <p>Class mode: each student runs their lesson with their client id and logs in \
                with the username and password of their handout; their flows appear here.</p></div>"
            .into();
    }
    let example = format!(
        "{}/authorize?response_type=code&client_id=lab-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcallback&scope=profile%20posts%3Aread&state=abc",
        app.issuer
    );
    format!(
        "<div class=\"empty\"><h2>No flow yet</h2>\
         <p>Run a client against this provider, for example <code>cargo run -p solution05</code> \
         or your lesson with <code>cargo run -p lesson03</code>, and watch its steps appear here. \
         Or start one by hand: open <a href=\"{url}\"><code>{url}</code></a> \
         and log in as <code>alice</code>.</p></div>",
        url = escape(&example)
    )
}

/// What a step is, in the flow's terms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Authorize,
    Consent,
    Code,
    Refresh,
    Api,
    Revoke,
    /// RFC 8628: the device asks for codes, the person types the user code,
    /// the device polls.
    DeviceStart,
    DevicePage,
    DevicePoll,
    Other,
}

fn kind(e: &Event) -> Kind {
    let (method, path) = e.request.split_once(' ').unwrap_or(("", &e.request));
    match (method, path) {
        ("GET" | "HEAD", "/authorize") => Kind::Authorize,
        ("POST", "/authorize") => Kind::Consent,
        ("POST", "/token") if param(e, "grant_type") == Some("refresh_token") => Kind::Refresh,
        ("POST", "/token") if param(e, "grant_type") == Some(DEVICE_GRANT_TYPE) => Kind::DevicePoll,
        ("POST", "/device_authorization") => Kind::DeviceStart,
        (_, "/device") => Kind::DevicePage,
        ("POST", "/token") => Kind::Code,
        ("POST", "/revoke") => Kind::Revoke,
        (_, p) if p.starts_with("/api/") => Kind::Api,
        // OpenID Connect Core 1.0 §5.3: a call with the access token, as the API's.
        (_, "/userinfo") => Kind::Api,
        _ => Kind::Other,
    }
}

fn param<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    e.params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn redirect_param<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    e.redirect_params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    NotYet,
    Waiting,
    Done,
    Failed,
}

impl Stage {
    fn class(self) -> &'static str {
        match self {
            Stage::NotYet => "",
            Stage::Waiting => "waiting",
            Stage::Done => "done",
            Stage::Failed => "failed",
        }
    }
}

/// Where a flow stands, stage by stage, with a word on each.
struct Progress {
    stages: [(Stage, String); 5],
    headline: (Stage, String),
}

fn progress(app: &App, steps: &[&Event]) -> Progress {
    if steps.iter().any(|e| kind(e) == Kind::DeviceStart) {
        return device_progress(app, steps);
    }
    let of = |k: Kind| steps.iter().filter(move |e| kind(e) == k);
    let ok = |e: &&&Event| (200..300).contains(&e.status);
    let redirects: Vec<&&Event> = steps.iter().filter(|e| e.redirect_to.is_some()).collect();
    let with_code = redirects
        .iter()
        .find(|e| redirect_param(e, "code").is_some());
    let with_error = redirects
        .iter()
        .find_map(|e| redirect_param(e, "error").map(|err| (e, err)));

    // A code nobody traded is worth nothing after its lifetime.
    let code_expired = with_code
        .and_then(|e| millis(&e.time))
        .is_some_and(|issued| u128::from(app.now()) > issued + app.config.code_ttl.as_millis());
    let request = match of(Kind::Authorize).next_back() {
        None => (Stage::NotYet, "not seen".to_string()),
        Some(e) if redirect_param(e, "error").is_some() || e.status >= 400 => {
            (Stage::Failed, "refused".into())
        }
        Some(_) => (Stage::Done, "accepted".into()),
    };
    let auto = with_code.is_some_and(|e| kind(e) == Kind::Authorize);
    let consent = match (with_code, with_error) {
        (Some(e), _) => (
            Stage::Done,
            match (&e.user, auto) {
                (Some(u), true) => format!("approved at once as {u}"),
                (Some(u), false) => format!("{u} allowed it"),
                (None, _) => "allowed".into(),
            },
        ),
        (None, Some((e, _))) if kind(e) == Kind::Consent => (Stage::Failed, "denied".into()),
        (None, Some(_)) => (Stage::NotYet, "skipped".into()),
        (None, None) if request.0 == Stage::Done => {
            let tries = of(Kind::Consent).filter(|e| e.status == 200).count();
            let note = if tries > 0 {
                format!("{tries} failed login")
            } else {
                "page shown".into()
            };
            (Stage::Waiting, note)
        }
        (None, None) => (Stage::NotYet, String::new()),
    };
    let back = match (with_code, with_error) {
        (Some(_), _) => (Stage::Done, "code sent".into()),
        (None, Some((_, err))) => (Stage::Failed, format!("error={err} sent")),
        (None, None) => (Stage::NotYet, String::new()),
    };
    let token = match (of(Kind::Code).find(ok), of(Kind::Code).next_back()) {
        (Some(_), _) => {
            let refreshes = of(Kind::Refresh).filter(ok).count();
            let note = if refreshes > 0 {
                format!(
                    "tokens issued, {}",
                    plural(refreshes, "refresh", "refreshes")
                )
            } else {
                "tokens issued".into()
            };
            (Stage::Done, note)
        }
        (None, Some(e)) => (Stage::Failed, error_word(e)),
        (None, None) if back.0 == Stage::Done && code_expired => {
            (Stage::Failed, "the code expired unused".into())
        }
        (None, None) if back.0 == Stage::Done => (Stage::Waiting, "code not traded yet".into()),
        (None, None) => (Stage::NotYet, String::new()),
    };
    let calls = of(Kind::Api).count();
    let answered = of(Kind::Api).filter(ok).count();
    let api = match (calls, answered) {
        (0, _) if token.0 == Stage::Done => (Stage::Waiting, "no call yet".into()),
        (0, _) => (Stage::NotYet, String::new()),
        (n, 0) => (Stage::Failed, format!("{n} calls refused")),
        (n, k) if k == n => (Stage::Done, plural(n, "call", "calls")),
        (n, k) => (Stage::Done, format!("{n} calls, {} refused", n - k)),
    };

    let headline = if request.0 == Stage::Failed {
        let e = of(Kind::Authorize)
            .next_back()
            .expect("a failed request was seen");
        (
            Stage::Failed,
            match redirect_param(e, "error") {
                Some(err) => format!("Refused: {err} was sent back to the application"),
                None => "Refused: the person saw an error page, the application got nothing".into(),
            },
        )
    } else if consent.0 == Stage::Failed {
        (
            Stage::Failed,
            "Denied: the application was told access_denied".into(),
        )
    } else if consent.0 == Stage::Waiting {
        (
            Stage::Waiting,
            "Waiting for the person to log in and decide".into(),
        )
    } else if token.0 == Stage::Waiting {
        (
            Stage::Waiting,
            format!(
                "Waiting for the application to trade its code (codes live {} s)",
                app.config.code_ttl.as_secs()
            ),
        )
    } else if token.0 == Stage::Failed && code_expired {
        (
            Stage::Failed,
            "The application never traded its code, which has now expired".into(),
        )
    } else if token.0 == Stage::Failed {
        (Stage::Failed, "The code was not accepted at /token".into())
    } else if api.0 == Stage::Waiting {
        (
            Stage::Done,
            "Tokens issued: the application may call the API".into(),
        )
    } else if api.0 == Stage::Failed {
        (
            Stage::Failed,
            "The API refused the application's calls".into(),
        )
    } else if api.0 == Stage::Done && answered == calls {
        (
            Stage::Done,
            format!(
                "Tokens issued; {} answered",
                plural(calls, "API call", "API calls")
            ),
        )
    } else if api.0 == Stage::Done {
        (
            Stage::Done,
            format!(
                "Tokens issued; {}, {} refused",
                plural(calls, "API call", "API calls"),
                calls - answered
            ),
        )
    } else {
        (Stage::NotYet, String::new())
    };
    let headline = match steps.last() {
        // Something went wrong after the flow had got somewhere: say what, last.
        Some(last) if last.status >= 400 && headline.0 == Stage::Done => (
            Stage::Failed,
            format!(
                "{}; then {} refused: {}",
                headline.1,
                last.request,
                error_word(last)
            ),
        ),
        _ if of(Kind::Revoke).any(|e| e.status == 200) => {
            (headline.0, format!("{}; a token was revoked", headline.1))
        }
        _ => headline,
    };
    Progress {
        stages: [request, consent, back, token, api],
        headline,
    }
}

/// Where a device flow (RFC 8628) stands: codes issued, the person's decision,
/// the device's polls, the tokens, the API calls.
fn device_progress(app: &App, steps: &[&Event]) -> Progress {
    let of = |k: Kind| steps.iter().filter(move |e| kind(e) == k);
    let ok = |e: &&&Event| (200..300).contains(&e.status);
    let start = match of(Kind::DeviceStart).next_back() {
        None => (Stage::NotYet, String::new()),
        Some(e) if e.status >= 400 => (Stage::Failed, error_word(e)),
        Some(_) => (Stage::Done, "codes issued".into()),
    };
    let started_at = of(Kind::DeviceStart).find(ok).and_then(|e| millis(&e.time));
    let expired = started_at
        .is_some_and(|at| u128::from(app.now()) >= at + app.config.device_ttl.as_millis())
        || of(Kind::DevicePoll).any(|e| error_word(e) == "expired_token");
    let approved = of(Kind::DevicePage).find(|e| e.user.is_some() && ok(e));
    let denied = of(Kind::DevicePage).any(|e| param(e, "decision") == Some("deny") && ok(&e));
    let consent = match (approved, denied) {
        (Some(e), _) => (
            Stage::Done,
            format!("{} allowed it", e.user.as_deref().unwrap_or("someone")),
        ),
        (None, true) => (Stage::Failed, "denied".into()),
        (None, false) if start.0 == Stage::Done && expired => {
            (Stage::Failed, "nobody decided in time".into())
        }
        (None, false) if start.0 == Stage::Done => (
            Stage::Waiting,
            if of(Kind::DevicePage).next().is_some() {
                "page opened".into()
            } else {
                "nobody has entered the code".into()
            },
        ),
        (None, false) => (Stage::NotYet, String::new()),
    };
    let polls = of(Kind::DevicePoll).count();
    let slow = of(Kind::DevicePoll)
        .filter(|e| error_word(e) == "slow_down")
        .count();
    let got = of(Kind::DevicePoll).find(ok);
    let final_refusal = of(Kind::DevicePoll)
        .filter(|e| e.status >= 400)
        .map(|e| error_word(e))
        .find(|w| w != "authorization_pending" && w != "slow_down");
    let mut poll_note = plural(polls, "poll", "polls");
    if slow > 0 {
        let _ = write!(poll_note, ", {slow} too fast (slow_down)");
    }
    let polling = match (polls, &got, &final_refusal) {
        (0, _, _) if start.0 == Stage::Done && !expired => (Stage::Waiting, "no poll yet".into()),
        (0, _, _) => (Stage::NotYet, String::new()),
        (_, Some(_), _) => (Stage::Done, poll_note),
        (_, None, Some(_)) => (Stage::Failed, poll_note),
        _ => (Stage::Waiting, poll_note),
    };
    let token = match (&got, &final_refusal) {
        (Some(_), _) => (Stage::Done, "tokens issued".into()),
        (None, Some(word)) => (Stage::Failed, word.clone()),
        (None, None) if start.0 == Stage::Done && expired => {
            (Stage::Failed, "the device code expired".into())
        }
        (None, None) if start.0 == Stage::Done => (Stage::Waiting, String::new()),
        (None, None) => (Stage::NotYet, String::new()),
    };
    let calls = of(Kind::Api).count();
    let answered = of(Kind::Api).filter(ok).count();
    let api = match (calls, answered) {
        (0, _) if token.0 == Stage::Done => (Stage::Waiting, "no call yet".into()),
        (0, _) => (Stage::NotYet, String::new()),
        (n, 0) => (Stage::Failed, format!("{n} calls refused")),
        (n, k) if k == n => (Stage::Done, plural(n, "call", "calls")),
        (n, k) => (Stage::Done, format!("{n} calls, {} refused", n - k)),
    };
    let headline = if start.0 == Stage::Failed {
        (
            Stage::Failed,
            format!("Refused: the device authorization request got {}", start.1),
        )
    } else if token.0 == Stage::Done {
        match api.0 {
            Stage::Failed => (
                Stage::Failed,
                "The API refused the device's calls".to_string(),
            ),
            Stage::Done => (
                Stage::Done,
                format!(
                    "Tokens issued to the device; {} answered",
                    plural(answered, "API call", "API calls")
                ),
            ),
            _ => (
                Stage::Done,
                "Tokens issued: the device may call the API".into(),
            ),
        }
    } else if consent.0 == Stage::Failed && denied {
        (
            Stage::Failed,
            "Denied: the device is told access_denied".into(),
        )
    } else if token.0 == Stage::Failed && expired {
        (
            Stage::Failed,
            "The device code expired before the device got its tokens".into(),
        )
    } else if token.0 == Stage::Failed {
        (
            Stage::Failed,
            format!("The device's poll was refused: {}", token.1),
        )
    } else if consent.0 == Stage::Waiting {
        (
            Stage::Waiting,
            "Waiting for a person to enter the code at /device and decide".into(),
        )
    } else if consent.0 == Stage::Done {
        (
            Stage::Waiting,
            "Approved: waiting for the device's next poll".into(),
        )
    } else {
        (Stage::NotYet, String::new())
    };
    Progress {
        stages: [start, consent, polling, token, api],
        headline,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The error code of a refused step (`invalid_grant`, …), from its outcome.
fn error_word(e: &Event) -> String {
    e.outcome
        .split(':')
        .next()
        .filter(|w| !w.contains(' '))
        .unwrap_or("refused")
        .to_string()
}

/// `HH:MM:SS.mmm` of an RFC 3339 time.
fn clock_time(time: &str) -> &str {
    time.get(11..23).unwrap_or(time)
}

fn millis(time: &str) -> Option<u128> {
    humantime::parse_rfc3339_weak(time)
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_millis())
}

/// A line of the timeline: a step the provider answered, or the redirect leg
/// (browser → application) that follows one.
enum Row<'a> {
    Step(&'a Event),
    Leg(&'a Event),
}

/// The five stages of a flow, as the cards and the class view name them.
fn stage_names(device: bool) -> [&'static str; 5] {
    if device {
        [
            "1 Device authorization",
            "2 Code entered, login and consent",
            "3 The device polls",
            "4 Device code → tokens",
            "5 API calls",
        ]
    } else {
        [
            "1 Authorization request",
            "2 Login and consent",
            "3 Back to the application",
            "4 Code → tokens",
            "5 API calls",
        ]
    }
}

/// `GET /_lab/class`: during class, one row per student (the users of
/// `--config`; every user when there are none): where their latest flow
/// stands, stage by stage, and when the provider last saw them, so that an
/// instructor sees at a glance who is stuck where.
pub fn class(app: &App) -> Response {
    let events = app.trace.since(0);
    let students: Vec<&str> = {
        let own: Vec<&str> = app
            .config
            .users
            .iter()
            .filter(|u| !u.is_demo())
            .map(|u| u.username.as_str())
            .collect();
        if own.is_empty() {
            app.config
                .users
                .iter()
                .map(|u| u.username.as_str())
                .collect()
        } else {
            own
        }
    };
    let mut flows: BTreeMap<u64, Vec<&Event>> = BTreeMap::new();
    for event in &events {
        if let Some(flow) = event.flow {
            flows.entry(flow).or_default().push(event);
        }
    }
    let now = app.now() as u128;
    let mut rows = String::new();
    for student in &students {
        let seen = |e: &&Event| e.user.as_deref() == Some(*student);
        // Their flows: logged in as them, or started with their client ids.
        let theirs = |steps: &Vec<&Event>| flow_student(app, steps) == Some(*student);
        let latest = flows.iter().rev().find(|(_, steps)| theirs(steps));
        let last_seen = events
            .iter()
            .rev()
            .find(|e| seen(e) || e.flow.is_some_and(|f| flows.get(&f).is_some_and(theirs)));
        let _ = write!(rows, "<tr><th>{}</th>", escape(student));
        match latest {
            Some((flow, steps)) => {
                let device = steps.iter().any(|e| kind(e) == Kind::DeviceStart);
                let progress = progress(app, steps);
                let _ = write!(
                    rows,
                    "<td><a href=\"/_lab?student={}#flow-{flow}\">Flow {flow}</a>{}</td>",
                    escape(student),
                    flow_lesson(app, &events, steps)
                        .map(|l| format!(" <span class=\"quiet\">{}</span>", escape(l)))
                        .unwrap_or_default()
                );
                for (name, (stage, note)) in stage_names(device).iter().zip(&progress.stages) {
                    let _ = write!(
                        rows,
                        "<td class=\"cell {}\" title=\"{}: {}\"></td>",
                        stage.class(),
                        escape(name),
                        escape(note)
                    );
                }
                let _ = write!(
                    rows,
                    "<td class=\"state {}\">{}</td>",
                    progress.headline.0.class(),
                    escape(&progress.headline.1)
                );
            }
            None => rows.push_str("<td>—</td><td colspan=\"6\" class=\"quiet\">no flow yet</td>"),
        }
        let when = match last_seen {
            Some(e) => {
                let ago = millis(&e.time).map(|t| now.saturating_sub(t) / 60_000);
                format!(
                    "{} UTC{}",
                    escape(clock_time(&e.time)),
                    ago.map(|m| format!(" ({} ago)", plural(m as usize, "minute", "minutes")))
                        .unwrap_or_default()
                )
            }
            None => "never".into(),
        };
        let _ = writeln!(rows, "<td>{when}</td></tr>");
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"10\">\
         <link rel=\"icon\" href=\"data:,\">\
         <title>Class · OAuth2 Lab</title><style>{STYLE}{CLASS_STYLE}</style></head>\
         <body><div class=\"wrap\">\
         <header class=\"top\"><div><div class=\"kicker\">OAuth2 Lab · mock provider</div>\
         <h1>The class: who is where</h1>\
         <p>Each student's latest flow at <code>{issuer}</code>, stage by stage (hover a stage for its word). \
         This page reloads every 10 seconds.</p></div></header>\
         <table class=\"class\"><tr><th>Student</th><th>Latest flow</th>\
         <th>1 Asked</th><th>2 Consent</th><th>3 Code back</th><th>4 Tokens</th><th>5 API</th>\
         <th>Where it stands</th><th>Last seen</th></tr>\n{rows}</table>\
         <footer>Every flow in full: <a href=\"/_lab\">the inspector</a> · \
         <a href=\"/_lab/events\">/_lab/events</a></footer></div></body></html>\n",
        issuer = escape(&app.issuer),
    );
    lab_page(html, &CLASS_POLICY)
}

/// An inspector page: nothing runs or loads but what `policy` allows, it is
/// never framed, cached or sent on as a referrer (`nosniff` comes from the router).
fn lab_page(html: String, policy: &str) -> Response {
    Response::new(200, "text/html; charset=utf-8", html)
        .with_header("Content-Security-Policy", policy)
        .with_header("X-Frame-Options", "DENY")
        .with_header("Referrer-Policy", "no-referrer")
        .with_header("Cache-Control", "no-store")
}

const CLASS_STYLE: &str = r#"
table.class{border-collapse:collapse;background:#fff;margin-top:1rem;width:100%}
table.class th,table.class td{border:1px solid var(--line);padding:.45rem .6rem;text-align:left;font-size:.92rem}
table.class td.cell{width:4.5rem;background:#f4f6fa}
table.class td.cell.done{background:var(--ok-bg);border-bottom:5px solid var(--ok)}
table.class td.cell.waiting{background:var(--wait-bg);border-bottom:5px solid var(--wait)}
table.class td.cell.failed{background:var(--bad-bg);border-bottom:5px solid var(--bad)}
table.class td.state.done{color:var(--ok)}table.class td.state.failed{color:var(--bad)}table.class td.state.waiting{color:var(--wait)}
.quiet{color:var(--muted)}
"#;

/// The class view runs no script; its style is allowed by its hash.
static CLASS_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(format!("{STYLE}{CLASS_STYLE}")))
    );
    format!(
        "default-src 'none'; style-src {hash}; img-src data:; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'none'"
    )
});

fn flow_card(app: &App, all: &[Event], flow: u64, steps: &[&Event]) -> String {
    let client_id = flow_client(steps);
    let lesson = flow_lesson(app, all, steps);
    let client_name = app
        .client_index(client_id)
        .map(|i| app.config.clients[i].name.as_str());
    let user = steps.iter().find_map(|e| e.user.as_deref());
    let student = flow_student(app, steps);
    let scope = steps
        .iter()
        .find(|e| matches!(kind(e), Kind::Authorize | Kind::DeviceStart))
        .and_then(|e| param(e, "scope"));
    let device = steps.iter().any(|e| kind(e) == Kind::DeviceStart);
    let redirect_uri = steps
        .iter()
        .find(|e| kind(e) == Kind::Authorize)
        .and_then(|e| param(e, "redirect_uri"));
    let progress = progress(app, steps);

    let mut out = String::new();
    let _ = write!(
        out,
        "<article class=\"flow\" id=\"flow-{flow}\"><header><div><h2><span class=\"n\">Flow {flow}</span>{}</h2><p class=\"who\">",
        match client_name {
            Some(name) => format!("{} <code>{}</code>", escape(name), escape(client_id)),
            None if client_id.is_empty() => "an application".into(),
            None => format!("<code>{}</code>", escape(client_id)),
        }
    );
    let mut facts = Vec::new();
    facts.push(match (user, student) {
        (Some(u), _) => format!("as <b>{}</b>", escape(u)),
        (None, Some(s)) => format!("<b>{}</b>'s client, not logged in yet", escape(s)),
        (None, None) if progress.headline.0 == Stage::Waiting => "as <b>nobody yet</b>".into(),
        (None, None) => "no one logged in".into(),
    });
    if let Some(lesson) = lesson {
        facts.push(format!("from <b class=\"lesson\">{}</b>", escape(lesson)));
    }
    if let Some(scope) = scope {
        facts.push(format!("scope <code>{}</code>", escape(scope)));
    }
    if let Some(uri) = redirect_uri {
        facts.push(format!("back to <code>{}</code>", escape(uri)));
    }
    if let Some(first) = steps.first() {
        facts.push(format!("started {} UTC", escape(clock_time(&first.time))));
    }
    out.push_str(&facts.join(" · "));
    let _ = write!(
        out,
        "</p></div><p class=\"state {}\">{}</p></header><ol class=\"stages\">",
        progress.headline.0.class(),
        escape(&progress.headline.1)
    );
    for (name, (stage, note)) in stage_names(device).iter().zip(&progress.stages) {
        let _ = write!(
            out,
            "<li class=\"{}\"><b>{name}</b>{}</li>",
            stage.class(),
            escape(note)
        );
    }
    out.push_str("</ol><ol class=\"steps\">");

    let mut rows = Vec::new();
    for e in steps {
        rows.push(Row::Step(e));
        if e.redirect_to.is_some() {
            rows.push(Row::Leg(e));
        }
    }
    let start = steps.first().and_then(|e| millis(&e.time));
    let client_label = if client_id.is_empty() {
        "application".to_string()
    } else {
        client_id.to_string()
    };
    let mut explained = Vec::new();
    let shown = if rows.len() > HEAD_STEPS + TAIL_STEPS + 1 {
        let hidden = &rows[HEAD_STEPS..rows.len() - TAIL_STEPS];
        let mut text = String::new();
        for row in &rows[..HEAD_STEPS] {
            text.push_str(&row_html(row, start, &client_label, &mut explained));
        }
        let _ = write!(
            text,
            "<li class=\"gap\">… {} not shown: {}</li>",
            plural(hidden.len(), "more step", "more steps"),
            escape(&summarize(hidden))
        );
        for row in &rows[rows.len() - TAIL_STEPS..] {
            text.push_str(&row_html(row, start, &client_label, &mut explained));
        }
        text
    } else {
        rows.iter()
            .map(|row| row_html(row, start, &client_label, &mut explained))
            .collect()
    };
    out.push_str(&shown);
    out.push_str("</ol></article>");
    out
}

/// "5 × GET /api/posts 200, 1 × GET /api/posts 429", in order of first appearance.
fn summarize(rows: &[Row]) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for row in rows {
        let label = match row {
            Row::Step(e) => format!("{} {}", e.request, e.status),
            Row::Leg(_) => "redirect to the application".into(),
        };
        match seen.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => seen.push((label, 1)),
        }
    }
    seen.iter()
        .map(|(label, n)| format!("{n} × {label}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who called whom, a sentence on what the step is for (once per kind and
/// flow), the parameters and the result.
fn row_html(row: &Row, start: Option<u128>, client: &str, explained: &mut Vec<&str>) -> String {
    let (e, parties, request, status, params, outcome, why) = match row {
        Row::Step(e) => {
            let to = match kind(e) {
                Kind::Authorize | Kind::Consent => "provider: authorization endpoint",
                Kind::Code | Kind::Refresh | Kind::DevicePoll => "provider: token endpoint",
                Kind::DeviceStart => "provider: device authorization endpoint",
                Kind::DevicePage => "provider: verification page",
                Kind::Revoke => "provider: revocation endpoint",
                Kind::Api => "API (resource server)",
                Kind::Other => "provider",
            };
            let (key, why) = explain(e);
            (
                *e,
                (e.actor.as_str(), to),
                e.request.clone(),
                Some(e.status),
                &e.params,
                e.outcome.clone(),
                Some((key, why)),
            )
        }
        Row::Leg(e) => {
            let to = e.redirect_to.as_deref().unwrap_or("");
            let why = if redirect_param(e, "code").is_some() {
                "The answer travels in the browser's address bar to the application's loopback \
                 listener: a one-time code, the state the application sent (it must check it) and \
                 iss, who issued the code. The provider never sees this request."
            } else {
                "The refusal travels in the browser's address bar to the application's loopback \
                 listener, with the state the application sent and iss. The provider never sees \
                 this request."
            };
            (
                *e,
                ("browser", "application's listener"),
                format!("GET {to}"),
                None,
                &e.redirect_params,
                format!("{client} takes it from here"),
                Some(("leg", why)),
            )
        }
    };
    let mut out = String::new();
    // A failed login answers 200 (the form again), but it is a failure all the same.
    let failed_login = (kind(e) == Kind::Consent && e.status == 200)
        || (kind(e) == Kind::DevicePage && e.outcome.starts_with("wrong"));
    // RFC 8628 §3.5: "not yet" is how a device flow waits, not a failure.
    let pending = kind(e) == Kind::DevicePoll && error_word(e) == "authorization_pending";
    let bad = (status.is_some_and(|s| s >= 400) && !pending)
        || redirect_param(e, "error").is_some()
        || failed_login;
    let class = match (row, bad) {
        (Row::Leg(_), _) => "step leg",
        (_, true) => "step bad",
        _ => "step",
    };
    let rel = match (start, millis(&e.time)) {
        (Some(a), Some(b)) if b >= a => format!("+{:.2} s", (b - a) as f64 / 1000.0),
        _ => String::new(),
    };
    let _ = write!(
        out,
        "<li class=\"{class}\" data-seq=\"{}\"><div class=\"when\"><span class=\"mono\">{}</span><span class=\"rel\">{rel}</span></div><div>\
         <div class=\"line\"><span class=\"parties\">{}<span class=\"arrow\">→</span>{}</span>\
         <code class=\"req\">{}</code>",
        e.seq,
        escape(clock_time(&e.time)),
        escape(parties.0),
        escape(parties.1),
        escape(&request),
    );
    if let Some(status) = status {
        let class = if failed_login {
            4
        } else if pending {
            3
        } else {
            (status / 100).min(5)
        };
        let _ = write!(out, "<span class=\"status s{class}\">{status}</span>");
    }
    out.push_str("</div>");
    if let Some((key, why)) = why.filter(|(key, why)| !why.is_empty() && !explained.contains(key)) {
        explained.push(key);
        let _ = write!(out, "<p class=\"why\">{}</p>", escape(why));
    }
    if !params.is_empty() {
        out.push_str("<ul class=\"params\">");
        for (name, value) in params {
            let _ = write!(
                out,
                "<li><span>{}</span><code>{}</code></li>",
                escape(name),
                if value.is_empty() {
                    "(empty)".to_string()
                } else {
                    escape(value)
                }
            );
        }
        out.push_str("</ul>");
    }
    let _ = write!(
        out,
        "<p class=\"outcome\">{}</p></div></li>",
        escape(&outcome)
    );
    out
}

/// A sentence for a student on what this kind of step is for, and the key that
/// shows it once per flow.
fn explain(e: &Event) -> (&'static str, &'static str) {
    match kind(e) {
        Kind::Authorize if e.status == 200 => (
            "authorize",
            "The application sent the browser here with its request: who it is, where to send \
             the answer, what it wants and a state to recognise the answer by.",
        ),
        Kind::Authorize if redirect_param(e, "code").is_some() => (
            "authorize",
            "The application sent the browser here with its request; the provider approved it \
             at once (--auto-approve), without showing a page.",
        ),
        Kind::Authorize => (
            "authorize",
            "The application sent the browser here with a request the provider refuses.",
        ),
        Kind::Consent if redirect_param(e, "code").is_some() => (
            "consent",
            "The person logged in and allowed it. The password went to the provider only; the \
             application never sees it.",
        ),
        Kind::Consent if redirect_param(e, "error").is_some() => (
            "consent",
            "The person said no: the application gets nothing but an error.",
        ),
        Kind::Consent => ("consent", ""),
        Kind::Code => (
            "code",
            "Server to server, without the browser: the application trades the code for tokens \
             and proves who it is (client secret, or PKCE verifier).",
        ),
        Kind::Refresh => (
            "refresh",
            "The application trades its refresh token for fresh tokens; the old refresh token \
             stops working (rotation).",
        ),
        Kind::Api => (
            "api",
            "The application calls the API with the access token in the Authorization header.",
        ),
        Kind::DeviceStart => (
            "device",
            "A device without a browser (a TV, a program over SSH) asks for two codes: a long \
             device code it keeps secret, and a short user code for a person to type on \
             another device (RFC 8628 §3.1).",
        ),
        Kind::DevicePage => (
            "device-page",
            "The person, on a phone or computer, opens the verification page, types the user \
             code the device shows, logs in and decides. The device never sees the password.",
        ),
        Kind::DevicePoll => (
            "poll",
            "The device asks the token endpoint, every few seconds, whether the person has \
             decided: authorization_pending means not yet, slow_down means ask less often \
             (RFC 8628 §3.5).",
        ),
        Kind::Revoke => (
            "revoke",
            "The application hands a token back, so it cannot be used again (logout).",
        ),
        Kind::Other => ("other", ""),
    }
}

/// Steps that belong to no flow: error pages before the client was known,
/// tokens and codes the provider never issued, wrong paths.
fn loose_card(loose: &[&Event]) -> String {
    let skip = loose.len().saturating_sub(SHOWN_LOOSE);
    let mut out = format!(
        "<article class=\"flow\" id=\"outside\"><header><div><h2>Requests outside any flow</h2>\
         <p class=\"who\">Refused before a flow began, or carrying a code or token this provider \
         does not know{}.</p></div></header><ol class=\"steps\">",
        if skip > 0 {
            format!("; the latest {SHOWN_LOOSE} of {}", loose.len())
        } else {
            String::new()
        }
    );
    let mut explained = vec![
        "authorize",
        "consent",
        "code",
        "refresh",
        "api",
        "revoke",
        "other",
    ];
    for e in &loose[skip..] {
        out.push_str(&row_html(&Row::Step(e), None, "", &mut explained));
    }
    out.push_str("</ol></article>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_this_page_s_script_and_style() {
        let policy = POLICY.as_str();
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        assert!(!policy.contains("unsafe-inline") && !policy.contains("http"));
        // The script polls this provider only.
        assert!(SCRIPT.contains("fetch(\"/_lab/events?after=\""));
        assert!(!SCRIPT.contains("http") && !STYLE.contains("url("));
    }
}
