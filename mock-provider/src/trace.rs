//! The trace: one readable line per protocol step (the mock provider appendix,
//! "The trace").
//!
//! Each step is also kept, in a bounded buffer, for `GET /_lab/events` and the
//! inspector. Secrets are shortened before they get here (see [`crate::shorten`]);
//! the tests read every line and event back and look for whole secrets.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::TraceOutput;

/// Steps kept for `/_lab/events`; older ones are dropped.
pub const KEPT_EVENTS: usize = 2000;
/// Characters kept of any one recorded value: a client may send 16 KB in one
/// parameter, and the trace must stay small and readable.
pub const KEPT_CHARS: usize = 200;

/// `text`, cut to [`KEPT_CHARS`] characters with a note of how long it was.
fn clip(text: String) -> String {
    match text.char_indices().nth(KEPT_CHARS) {
        None => text,
        Some((cut, _)) => format!("{}…({} bytes)", &text[..cut], text.len()),
    }
}

/// `text` safe to print on a terminal: control characters (newlines, escape
/// sequences) are written as escapes, so a client cannot forge trace lines.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One protocol step: who called what, with which parameters, and what came back.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// Increases by one per step, so a reader can ask for what is new.
    pub seq: u64,
    /// RFC 3339, milliseconds, UTC.
    pub time: String,
    /// Steps of one authorization share a flow number (from `/authorize` to the API calls).
    pub flow: Option<u64>,
    /// Who made the request: `browser`, a client id, or `api client`.
    pub actor: String,
    /// `GET /authorize`, `POST /token`, …
    pub request: String,
    /// The parameters that matter, secrets shortened.
    pub params: Vec<(String, String)>,
    pub status: u16,
    /// What happened, in words.
    pub outcome: String,
    /// Whose data the step is about, once the provider knows (a username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Where the answer sent the browser next: the client's redirect URI, without
    /// the parameters the redirect added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<String>,
    /// The parameters that redirect carries (`code`, `state`, `iss` or `error`, …),
    /// secrets shortened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_params: Vec<(String, String)>,
    /// The request's `User-Agent`: the course's programs announce their
    /// lesson in it (`oauth2-lab/lesson05 (client lab-client)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl Event {
    /// The line the binary prints.
    pub fn line(&self) -> String {
        let time = self.time.get(11..23).unwrap_or(&self.time);
        let flow = self
            .flow
            .map(|f| format!("flow {f}"))
            .unwrap_or_else(|| "no flow".into());
        let params = self
            .params
            .iter()
            .map(|(k, v)| {
                if v.contains(' ') || v.is_empty() {
                    format!("{}={v:?}", printable(k))
                } else {
                    format!("{}={}", printable(k), printable(v))
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let sep = if params.is_empty() { "" } else { " " };
        format!(
            "{time} [{flow}] {} → {}{sep}{params} ⇒ {} {}",
            printable(&self.actor),
            printable(&self.request),
            self.status,
            printable(&self.outcome)
        )
    }
}

/// A step being described by a handler, finished by [`Trace::record`].
#[derive(Default)]
pub struct Step {
    pub flow: Option<u64>,
    pub actor: String,
    pub params: Vec<(String, String)>,
    pub outcome: String,
    pub user: Option<String>,
    pub redirect_to: Option<String>,
    pub redirect_params: Vec<(String, String)>,
    pub agent: Option<String>,
}

impl Step {
    pub fn param(&mut self, name: &str, value: impl Into<String>) {
        self.params.push((name.to_string(), value.into()));
    }

    /// Records a redirect to `to` carrying `params` (already shortened where secret).
    pub fn redirect(&mut self, to: &str, params: Vec<(String, String)>) {
        self.redirect_to = Some(to.to_string());
        self.redirect_params = params;
    }
}

pub struct Trace {
    output: TraceOutput,
    events: Mutex<(u64, VecDeque<Event>)>,
    /// `--events-file`: every step is appended there too, as a JSON line.
    file: Option<File>,
}

impl Trace {
    pub fn new(output: TraceOutput) -> Self {
        Trace {
            output,
            events: Mutex::new((0, VecDeque::new())),
            file: None,
        }
    }

    /// A trace that starts with `earlier` (the latest steps of an events file,
    /// oldest first), numbers new steps after `seq`, and appends every new
    /// step to `file`.
    pub fn with_file(output: TraceOutput, file: File, earlier: Vec<Event>, seq: u64) -> Self {
        Trace {
            output,
            events: Mutex::new((seq, earlier.into())),
            file: Some(file),
        }
    }

    pub fn record(&self, now_ms: u64, request: String, status: u16, step: Step) {
        let time = humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(now_ms))
            .to_string();
        let pairs = |list: Vec<(String, String)>| -> Vec<(String, String)> {
            list.into_iter().map(|(k, v)| (clip(k), clip(v))).collect()
        };
        // Built and formatted before taking the lock, which guards only the buffer.
        let mut event = Event {
            seq: 0,
            time,
            flow: step.flow,
            actor: clip(step.actor),
            request: clip(request),
            params: pairs(step.params),
            status,
            outcome: clip(step.outcome),
            user: step.user.map(clip),
            redirect_to: step.redirect_to.map(clip),
            redirect_params: pairs(step.redirect_params),
            agent: step.agent.map(clip),
        };
        let line;
        {
            let mut guard = self.events.lock().unwrap_or_else(|e| e.into_inner());
            guard.0 += 1;
            event.seq = guard.0;
            line = (self.output == TraceOutput::Stdout).then(|| event.line());
            // Written under the lock, so the file keeps the order of `seq`; one
            // write per line, appended (the file is opened with O_APPEND).
            if let Some(mut file) = self.file.as_ref() {
                if let Ok(mut json) = serde_json::to_string(&event) {
                    json.push('\n');
                    if let Err(e) = file.write_all(json.as_bytes()) {
                        eprintln!(
                            "warning: cannot append to the events file ({e}); the step is kept in memory only"
                        );
                    }
                }
            }
            guard.1.push_back(event);
            if guard.1.len() > KEPT_EVENTS {
                guard.1.pop_front();
            }
        }
        // Printed outside the lock: a slow terminal must not stall other requests.
        if let Some(line) = line {
            println!("{line}");
        }
    }

    /// Events with `seq` greater than `after`, oldest first.
    pub fn since(&self, after: u64) -> Vec<Event> {
        let guard = self.events.lock().unwrap_or_else(|e| e.into_inner());
        guard.1.iter().filter(|e| e.seq > after).cloned().collect()
    }
}
