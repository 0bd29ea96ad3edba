//! A real browser for the checks: Debian's Chromium, driven through
//! `chromedriver` with W3C WebDriver.
//!
//! The WebDriver client is the few commands below, JSON over HTTP with `ureq`,
//! which the workspace already builds. The crates that do this for you pull in
//! an async runtime and an HTTP stack (fantoccini, thirtyfour), or a WebSocket
//! client and a browser downloader (headless_chrome, chromiumoxide): hundreds of
//! crates for students to compile, for a dev-only check that needs a dozen
//! commands.
//!
//! ```no_run
//! use lab_tests::browser::{self, Person};
//! use mock_provider::Decision;
//! # let authorization_url = String::new();
//! let Some(browser) = browser::start_or_skip("my_test") else { return };
//! let landing = browser
//!     .authorize(&authorization_url, &Person::alice(), Decision::Approve)
//!     .unwrap();
//! println!("the browser ended at {landing:?}");
//! ```

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mock_provider::Decision;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Flags for a quiet, hermetic Chromium: no sandbox (CI runs as root), no
/// first-run UI, no traffic of its own to anywhere.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-breakpad",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--lang=en-US",
];

/// A laptop screen's viewport.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 800;

/// How long a page or a redirect may take before a check gives up.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// What went wrong while driving the browser.
#[derive(Debug)]
pub enum BrowserError {
    /// chromedriver or Chromium did not start.
    Start(String),
    /// A WebDriver command failed (`error` is the W3C error code).
    Command {
        command: String,
        error: String,
        message: String,
    },
    /// Something did not happen before the deadline.
    Timeout(String),
}

impl std::fmt::Display for BrowserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BrowserError::Start(e) => write!(f, "the browser did not start: {e}"),
            BrowserError::Command {
                command,
                error,
                message,
            } => {
                let first = message.lines().next().unwrap_or("");
                write!(f, "WebDriver {command}: {error}: {first}")
            }
            BrowserError::Timeout(what) => write!(f, "gave up after {PATIENCE:?}: {what}"),
        }
    }
}

impl std::error::Error for BrowserError {}

/// Someone at the browser: who logs in on the consent page.
#[derive(Clone)]
pub struct Person {
    pub username: String,
    password: String,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Person")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl Person {
    pub fn new(username: &str, password: &str) -> Self {
        Person {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The built-in lab user alice (book/src/appendix/mock-provider.md).
    pub fn alice() -> Self {
        Person::new("alice", "wonderland")
    }
}

/// Where the browser ended after the consent page: the client's redirect URI
/// and what the page there says.
#[derive(Clone)]
pub struct Landing {
    /// The whole URL, with the code: use [`Landing::param`], do not print it.
    pub url: String,
    /// The page's visible text.
    pub text: String,
}

impl std::fmt::Debug for Landing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Landing")
            .field("url", &redact(&self.url))
            .field("text", &self.text)
            .finish()
    }
}

impl Landing {
    /// A query parameter of the URL, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        url::Url::parse(&self.url)
            .ok()?
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// `url` with the values that are secrets (codes, tokens) shortened, as everywhere else.
pub fn redact(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let mut out = url.to_string();
    for (name, value) in parsed.query_pairs() {
        if matches!(
            &*name,
            "code" | "access_token" | "refresh_token" | "code_verifier" | "client_secret"
        ) && !value.is_empty()
        {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            out = out.replace(&encoded, &mock_provider::shorten(&value));
        }
    }
    out
}

/// A running Chromium with one WebDriver session; both end on drop.
pub struct Browser {
    driver: Child,
    session: String,
    agent: ureq::Agent,
    /// Chromium's own process, killed on drop if the session did not end it.
    chromium_pid: Option<u32>,
    profile: PathBuf,
}

/// Starts Chromium for `test`. Without Chromium installed, it prints that the
/// test did not run and returns `None`, unless `CI` is set: then it panics, so a
/// CI machine without a browser fails instead of passing quietly.
pub fn start_or_skip(test: &str) -> Option<Browser> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "{} not installed (apt-get install chromium chromium-driver, or .ci/browser.sh)",
            missing.join(" and ")
        );
        // CI=true on the usual CI services; an empty or "false" CI is not one.
        let on_ci = std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
        if on_ci {
            panic!("{test}: CI is set and {why}");
        }
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** {test} DID NOT RUN: {why}. It passes without checking anything. ***\n"
        );
        return None;
    }
    match Browser::start() {
        Ok(browser) => Some(browser),
        Err(e) => panic!("{test}: {e}"),
    }
}

impl Browser {
    /// Starts chromedriver on a free port and a fresh Chromium profile.
    pub fn start() -> Result<Browser, BrowserError> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let profile = std::env::temp_dir().join(format!(
            "oauth2-lab-chromium-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile)
            .map_err(|e| BrowserError::Start(format!("{}: {e}", profile.display())))?;
        let mut driver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            // Chromium's config and crash database stay in the throwaway profile too.
            .env("XDG_CONFIG_HOME", profile.join("config"))
            .env("XDG_CACHE_HOME", profile.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BrowserError::Start(format!("{CHROMEDRIVER}: {e}")))?;
        let port = match driver_port(&mut driver) {
            Ok(port) => port,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                let _ = std::fs::remove_dir_all(&profile);
                return Err(e);
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The driver is on the loopback: a proxy from the environment must not get in the way.
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Browser {
            driver,
            session: format!("http://127.0.0.1:{port}/session"),
            agent,
            chromium_pid: None,
            profile,
        };
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", browser.profile.display()));
        args.push(format!("--window-size={WIDTH},{HEIGHT}"));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": { "pageLoad": PATIENCE.as_millis() as u64, "script": 10_000, "implicit": 0 },
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        }}});
        let created = browser
            .command("POST", "", &capabilities)
            .map_err(|e| BrowserError::Start(e.to_string()))?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::Start(format!("no sessionId in {created}")))?;
        browser.chromium_pid = created["capabilities"]["goog:processID"]
            .as_u64()
            .map(|p| p as u32);
        browser.session = format!("{}/{id}", browser.session);
        browser.resize(u64::from(HEIGHT))?;
        Ok(browser)
    }

    /// Sends one WebDriver command (`path` after the session URL) and returns its `value`.
    fn command(&self, method: &str, path: &str, body: &Value) -> Result<Value, BrowserError> {
        let url = format!("{}{path}", self.session);
        let name = format!(
            "{method} {}",
            if path.is_empty() { "/session" } else { path }
        );
        let failed = |message: String| BrowserError::Command {
            command: name.clone(),
            error: "no answer".into(),
            message,
        };
        let result = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string().as_str()),
        };
        let mut response = result.map_err(|e| failed(e.to_string()))?;
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| failed(e.to_string()))?;
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| failed(format!("not JSON ({e}): {text:.200}")))?;
        let value = answer["value"].clone();
        if response.status().is_success() {
            // A new session answers `{sessionId, capabilities}` inside `value`.
            Ok(value)
        } else {
            Err(BrowserError::Command {
                command: name,
                error: value["error"].as_str().unwrap_or("unknown error").into(),
                message: value["message"].as_str().unwrap_or("").into(),
            })
        }
    }

    /// Loads `url` and waits for the page to load.
    pub fn open(&self, url: &str) -> Result<(), BrowserError> {
        self.command("POST", "/url", &json!({ "url": url }))
            .map_err(|e| self.without_secrets(e))?;
        Ok(())
    }

    /// The address bar.
    pub fn url(&self) -> Result<String, BrowserError> {
        Ok(self
            .command("GET", "/url", &Value::Null)?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// The page's visible text.
    pub fn text(&self) -> Result<String, BrowserError> {
        let value = self.command(
            "POST",
            "/execute/sync",
            &json!({ "script": "return document.body ? document.body.innerText : '';", "args": [] }),
        )?;
        Ok(value.as_str().unwrap_or("").to_string())
    }

    /// The page's HTML as the browser holds it now.
    pub fn source(&self) -> Result<String, BrowserError> {
        Ok(self
            .command("GET", "/source", &Value::Null)?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    pub fn find(&self, css: &str) -> Result<Element<'_>, BrowserError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.command(
                "POST",
                "/element",
                &json!({ "using": "css selector", "value": css }),
            ) {
                Ok(value) => {
                    let id = value[ELEMENT].as_str().unwrap_or_default().to_string();
                    return Ok(Element { browser: self, id });
                }
                Err(BrowserError::Command { error, .. })
                    if error == "no such element" && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(BrowserError::Command { error, .. }) if error == "no such element" => {
                    return Err(BrowserError::Timeout(format!(
                        "no element {css} on {}",
                        redact(&self.url().unwrap_or_default())
                    )));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits until `check` holds for the page's visible text; returns that text.
    pub fn wait_for_text(
        &self,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) -> Result<String, BrowserError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = self.text()?;
            if check(&text) {
                return Ok(text);
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(format!(
                    "{what}; the page at {} says:\n{text}",
                    redact(&self.url().unwrap_or_default())
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the address bar starts with `prefix`; returns the URL.
    pub fn wait_for_url(&self, prefix: &str) -> Result<String, BrowserError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = self.url()?;
            if url.starts_with(prefix) && self.ready()? {
                return Ok(url);
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(format!(
                    "the browser never reached {prefix}; it is at {}",
                    redact(&url)
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ready(&self) -> Result<bool, BrowserError> {
        let state = self.command(
            "POST",
            "/execute/sync",
            &json!({ "script": "return document.readyState;", "args": [] }),
        )?;
        Ok(state == "complete")
    }

    /// Sizes the window so that the page's viewport is `WIDTH` × `height`
    /// (the window's own frame takes some of its size, even headless).
    fn resize(&self, height: u64) -> Result<(), BrowserError> {
        let frame = self.command(
            "POST",
            "/execute/sync",
            &json!({ "script": "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];", "args": [] }),
        )?;
        let (dx, dy) = (
            frame[0].as_u64().unwrap_or(0),
            frame[1].as_u64().unwrap_or(0),
        );
        self.command(
            "POST",
            "/window/rect",
            &json!({ "width": u64::from(WIDTH) + dx, "height": height + dy }),
        )
        .map(drop)
    }

    /// Writes a PNG of the whole page, as wide as a laptop screen and as tall as
    /// the page, to `path`, creating its folder.
    pub fn screenshot(&self, path: &Path) -> Result<(), BrowserError> {
        let height = self
            .command(
                "POST",
                "/execute/sync",
                &json!({ "script": "return document.documentElement.scrollHeight;", "args": [] }),
            )?
            .as_u64()
            .unwrap_or(u64::from(HEIGHT))
            .clamp(u64::from(HEIGHT), 8000);
        self.resize(height)?;
        let shot = self.command("GET", "/screenshot", &Value::Null);
        self.resize(u64::from(HEIGHT))?;
        let png = STANDARD
            .decode(shot?.as_str().unwrap_or(""))
            .map_err(|e| BrowserError::Start(format!("the screenshot is not base64: {e}")))?;
        let io = |e: std::io::Error| BrowserError::Start(format!("{}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        std::fs::write(path, png).map_err(io)
    }

    /// Plays the person: opens `authorization_url`, and on the consent page logs
    /// in as `person` and approves, or denies. Returns where the browser landed
    /// once it has left the provider (the client's redirect URI).
    pub fn authorize(
        &self,
        authorization_url: &str,
        person: &Person,
        decision: Decision,
    ) -> Result<Landing, BrowserError> {
        self.open(authorization_url)?;
        self.decide(person, decision)
    }

    /// [`Browser::authorize`] on another thread, for a client that opens the
    /// browser and only then waits on its listener: the browser's last request
    /// needs that listener's answer. Join the handle for where the browser landed.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use lab_tests::browser::{Browser, Person};
    /// # use mock_provider::Decision;
    /// let browser = Arc::new(Browser::start().unwrap());
    /// let opener = {
    ///     let browser = browser.clone();
    ///     move |url: &str| browser.authorize_in_background(url, Person::alice(), Decision::Approve)
    /// };
    /// // Give `opener` to the client as its way of opening the browser, run the
    /// // client, then `opener`'s handle `.join()` says where the browser ended.
    /// # let _ = opener;
    /// ```
    pub fn authorize_in_background(
        self: &Arc<Self>,
        authorization_url: &str,
        person: Person,
        decision: Decision,
    ) -> JoinHandle<Result<Landing, BrowserError>> {
        let browser = Arc::clone(self);
        let url = authorization_url.to_string();
        std::thread::spawn(move || browser.authorize(&url, &person, decision))
    }

    /// On an open consent page: fills in the form as `person` and presses the
    /// button for `decision`; waits until the browser has left the provider.
    pub fn decide(&self, person: &Person, decision: Decision) -> Result<Landing, BrowserError> {
        let provider = origin(&self.url()?);
        let username = self.find("#username")?;
        username.clear()?;
        username.type_text(&person.username)?;
        self.find("#password")?.type_text(&person.password)?;
        let value = match decision {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        };
        self.find(&format!("button[name=decision][value={value}]"))?
            .click()?;
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = self.url()?;
            if origin(&url) != provider && self.ready()? {
                return Ok(Landing {
                    text: self.text()?,
                    url,
                });
            }
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(format!(
                    "the browser stayed on the provider after {value}: {}\n{}",
                    redact(&url),
                    self.text().unwrap_or_default()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A failed `open` names the URL, which may carry secrets.
    fn without_secrets(&self, e: BrowserError) -> BrowserError {
        match e {
            BrowserError::Command {
                command,
                error,
                message,
            } => BrowserError::Command {
                command,
                error,
                message: redact(&message),
            },
            other => other,
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session closes Chromium; killing chromedriver alone would leave it running.
        let ended = self.command("DELETE", "", &Value::Null).is_ok();
        if let Some(pid) = self.chromium_pid.filter(|_| !ended) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The port chromedriver reports once it listens ("… started successfully on port N.").
fn driver_port(driver: &mut Child) -> Result<u16, BrowserError> {
    let stdout = driver.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        // Keep reading after the port line, so chromedriver never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let port = line
                .split("on port ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok())
                .filter(|port| *port != 0);
            if let Some(port) = port.filter(|_| !sent) {
                let _ = sender.send(port);
                sent = true;
            }
        }
    });
    receiver
        .recv_timeout(PATIENCE)
        .map_err(|_| BrowserError::Start(format!("{CHROMEDRIVER} did not report its port")))
}

fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// An element on the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Element<'_> {
    pub fn click(&self) -> Result<(), BrowserError> {
        self.browser
            .command("POST", &format!("/element/{}/click", self.id), &json!({}))
            .map(drop)
    }

    pub fn clear(&self) -> Result<(), BrowserError> {
        self.browser
            .command("POST", &format!("/element/{}/clear", self.id), &json!({}))
            .map(drop)
    }

    /// Types `text` as keystrokes.
    pub fn type_text(&self, text: &str) -> Result<(), BrowserError> {
        self.browser
            .command(
                "POST",
                &format!("/element/{}/value", self.id),
                &json!({ "text": text }),
            )
            .map(drop)
    }

    /// The element's visible text.
    pub fn text(&self) -> Result<String, BrowserError> {
        Ok(self
            .browser
            .command("GET", &format!("/element/{}/text", self.id), &Value::Null)?
            .as_str()
            .unwrap_or("")
            .to_string())
    }
}

/// Where screenshots go: `target/screenshots/NAME.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent();
            workspace
                .expect("tests/ is inside the workspace")
                .join("target")
        });
    target.join("screenshots").join(format!("{name}.png"))
}
