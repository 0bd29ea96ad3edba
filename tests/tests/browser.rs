//! A real browser plays the student. Headless Chromium opens the
//! consent page of the mock provider, logs in as alice and approves (or denies),
//! and the application's loopback listener receives the answer. Screenshots of
//! what a person sees go to `target/screenshots/`.
//!
//! Without Chromium these tests say that they did not run; with `CI` set they fail.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lab_tests::browser::{self, Browser, PATIENCE, Person, screenshot_path};
use mock_provider::{Config, Decision, MockProvider};
use serde_json::Value;

fn provider() -> MockProvider {
    MockProvider::start(Config::default()).expect("the mock provider starts")
}

/// A state no other test uses, so a mix-up between tests would show.
fn fresh_state() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("st-{}-{nanos}", std::process::id())
}

fn authorization_url(provider: &MockProvider, redirect_uri: &str, state: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "lab-client")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "profile posts:read")
        .append_pair("state", state)
        .finish();
    format!("{}/authorize?{query}", provider.base_url())
}

/// The application's side of the redirect: a listener on 127.0.0.1 that takes
/// the one request to `/callback` the browser brings back, and answers a page.
/// Other requests (a browser may ask for `/favicon.ico`) get a 404.
struct Loopback {
    port: u16,
    received: mpsc::Receiver<String>,
    done: Arc<AtomicBool>,
}

impl Loopback {
    fn start() -> Loopback {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = listener.local_addr().unwrap().port();
        let (sender, received) = mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // One thread per connection: a browser may open a connection it
                // uses later, or never.
                let sender = sender.clone();
                let stop = stop.clone();
                std::thread::spawn(move || answer(stream, port, &sender, &stop));
            }
        });
        Loopback {
            port,
            received,
            done,
        }
    }

    fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// The `/callback` request's target (path and query), waiting for it.
    fn request(&self) -> String {
        self.received
            .recv_timeout(PATIENCE)
            .expect("the browser never brought the answer to the loopback listener")
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees `done`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn answer(stream: TcpStream, port: u16, sender: &mpsc::Sender<String>, done: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    // The rest of the head, up to the empty line.
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 2 {
        line.clear();
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let (status, page) = if target.starts_with("/callback") && !done.swap(true, Ordering::SeqCst) {
        let refused = target.contains("error=");
        let _ = sender.send(target);
        ("200 OK", landing_page(port, refused))
    } else {
        ("404 Not Found", "not here\n".to_string())
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
}

/// What the listener shows the person: the answer arrived, what happens next.
fn landing_page(port: u16, refused: bool) -> String {
    let (title, text) = if refused {
        (
            "You said no",
            "The application got <code>error=access_denied</code> and nothing else. \
             You can close this tab.",
        )
    } else {
        (
            "Lab Client got its answer",
            "The authorization code arrived at the application's listener. It now trades the \
             code for an access token, without your browser. You can close this tab and go \
             back to the terminal.",
        )
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
         <title>{title}</title><style>body{{font:16px/1.5 system-ui,sans-serif;background:#eef1f6;color:#1c2331}}\
         main{{max-width:32rem;margin:3rem auto;background:#fff;border-radius:14px;padding:1.6rem 2rem;\
         box-shadow:0 2px 16px #1c23311f}}code{{background:#eef1f6;padding:0 .3rem;border-radius:4px}}</style></head>\
         <body><main><h1>{title}</h1><p>{text}</p><p><small>Listener: \
         <code>http://127.0.0.1:{port}/callback</code></small></p></main></body></html>"
    )
}

fn query_param(target: &str, name: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// POST /token with the code, as `lab-client` (HTTP Basic); the access token.
fn exchange(provider: &MockProvider, code: &str, redirect_uri: &str) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", redirect_uri)
        .finish();
    let mut response = agent()
        .post(&format!("{}/token", provider.base_url()))
        // base64("lab-client:lab-secret"), the built-in client (book/src/appendix/mock-provider.md).
        .header("Authorization", "Basic bGFiLWNsaWVudDpsYWItc2VjcmV0")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body.as_str())
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(
        status, 200,
        "the code from the browser is refused: {}",
        json["error"]
    );
    json["access_token"]
        .as_str()
        .expect("an access_token")
        .to_string()
}

fn api(provider: &MockProvider, path: &str, token: &str) -> Value {
    let mut response = agent()
        .get(&format!("{}{path}", provider.base_url()))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("the API answers");
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
}

fn chromium_logs_in_as_alice_approves_and_the_listener_gets_the_code(browser: &Arc<Browser>) {
    let provider = provider();
    let loopback = Loopback::start();
    let state = fresh_state();
    let url = authorization_url(&provider, &loopback.redirect_uri(), &state);

    browser.open(&url).unwrap();
    let consent = browser
        .wait_for_text("the consent page", |t| t.contains("wants to access"))
        .unwrap();
    for shown in [
        "Lab Client (confidential)",
        "See your name, username and email address",
        "Read your private posts",
        "wonderland",
        &loopback.redirect_uri(),
    ] {
        assert!(
            consent.contains(shown),
            "the consent page does not show {shown:?}:\n{consent}"
        );
    }
    browser.screenshot(&screenshot_path("consent")).unwrap();

    let landing = browser.decide(&Person::alice(), Decision::Approve).unwrap();
    let target = loopback.request();
    assert!(
        target.starts_with("/callback?"),
        "{}",
        browser::redact(&target)
    );
    let code = query_param(&target, "code").expect("a code in the redirect");
    assert!(
        code.starts_with("lab_code_"),
        "{}",
        mock_provider::shorten(&code)
    );
    assert_eq!(
        query_param(&target, "state").as_deref(),
        Some(state.as_str())
    );
    assert_eq!(
        query_param(&target, "iss").as_deref(),
        Some(provider.base_url())
    );
    assert_eq!(
        landing.param("code").as_deref(),
        Some(code.as_str()),
        "the address bar shows the redirect the listener got: {landing:?}"
    );
    assert!(
        landing.text.contains("Lab Client got its answer"),
        "the browser shows the listener's page: {landing:?}"
    );
    browser.screenshot(&screenshot_path("callback")).unwrap();

    let token = exchange(&provider, &code, &loopback.redirect_uri());
    assert_eq!(api(&provider, "/api/me", &token)["username"], "alice");

    browser
        .open(&format!("{}/_lab", provider.base_url()))
        .unwrap();
    let inspector = browser
        .wait_for_text("the inspector shows the flow", |t| {
            t.contains("Flow 1") && t.contains("1 API call answered") && t.contains("Live:")
        })
        .unwrap();
    for shown in [
        "as alice",
        "Lab Client (confidential)",
        "POST /token",
        "GET /api/me",
    ] {
        assert!(
            inspector.contains(shown),
            "the inspector lacks {shown:?}:\n{inspector}"
        );
    }
    let source = browser.source().unwrap();
    for secret in [code.as_str(), token.as_str(), "lab-secret", "wonderland"] {
        assert!(
            !inspector.contains(secret) && !source.contains(secret),
            "the inspector shows {} whole",
            mock_provider::shorten(secret)
        );
    }
    browser.screenshot(&screenshot_path("inspector")).unwrap();

    // Live: a new step shows up without a reload.
    api(&provider, "/api/posts", &token);
    browser
        .wait_for_text("the inspector shows the new call by itself", |t| {
            t.contains("2 API calls answered") && t.contains("GET /api/posts")
        })
        .unwrap();
    // Every request the browser made belongs to the flow: no stray /favicon.ico.
    let stray: Vec<String> = provider
        .events()
        .iter()
        .filter(|e| e.flow != Some(1))
        .map(|e| e.line())
        .collect();
    assert!(stray.is_empty(), "requests outside the flow: {stray:#?}");
}

fn chromium_denies_and_the_listener_gets_access_denied(browser: &Arc<Browser>) {
    let provider = provider();
    let loopback = Loopback::start();
    let state = fresh_state();
    let url = authorization_url(&provider, &loopback.redirect_uri(), &state);

    // As a client would: the browser plays the person while this thread waits on the listener.
    let person = browser.authorize_in_background(&url, Person::alice(), Decision::Deny);
    let target = loopback.request();
    let landing = person.join().unwrap().unwrap();

    assert_eq!(
        query_param(&target, "error").as_deref(),
        Some("access_denied"),
        "{target}"
    );
    assert_eq!(query_param(&target, "code"), None, "{target}");
    assert_eq!(
        query_param(&target, "state").as_deref(),
        Some(state.as_str())
    );
    assert_eq!(
        query_param(&target, "iss").as_deref(),
        Some(provider.base_url())
    );
    assert!(landing.text.contains("You said no"), "{landing:?}");
    browser.screenshot(&screenshot_path("denied")).unwrap();
}

fn chromium_shows_the_error_page_and_goes_nowhere_for_an_unregistered_redirect_uri(
    browser: &Arc<Browser>,
) {
    let provider = provider();
    let loopback = Loopback::start();
    // Registered is /callback; a different path is refused (RFC 6749 §4.1.2.1).
    let elsewhere = format!("http://127.0.0.1:{}/elsewhere", loopback.port);
    browser
        .open(&authorization_url(&provider, &elsewhere, &fresh_state()))
        .unwrap();
    let alert = browser.find("[role=alert]").unwrap().text().unwrap();
    assert!(
        alert.contains("is not registered for lab-client"),
        "the error says what is wrong: {alert}"
    );
    assert!(
        browser.url().unwrap().starts_with(provider.base_url()),
        "the browser stays on the provider"
    );
    assert!(
        loopback.received.try_recv().is_err(),
        "nothing reached the listener"
    );
    browser.screenshot(&screenshot_path("error-page")).unwrap();
}

/// solution05's own flow, with Chromium as the browser: its listener, its
/// authorization URL, its callback handling, token exchange and collection.
fn solution05_flow(
    browser: &Arc<Browser>,
    decision: Decision,
) -> (
    Result<labkit::Secret, labkit::CallbackError>,
    Arc<MockProvider>,
    String,
) {
    let provider = Arc::new(provider());
    let client = lab_tests::support::client_for(&provider);
    let server = labkit::listen(0).expect("solution05's listener binds 127.0.0.1:0");
    let redirect_uri = format!("http://127.0.0.1:{}/callback", labkit::port_of(&server));
    let state = solution05::new_state();
    let url = solution05::authorization_url(&client, &redirect_uri, &state);
    let person = browser.authorize_in_background(&url, Person::alice(), decision);
    let deadline = std::time::Instant::now() + PATIENCE;
    let result = solution05::wait_for_callback(&server, &state, client.iss.as_deref(), deadline);
    let landing = person
        .join()
        .expect("the browser thread ends")
        .expect("the browser lands on the listener");
    browser
        .screenshot(&screenshot_path(match decision {
            Decision::Approve => "solution05-success",
            Decision::Deny => "solution05-denied",
        }))
        .expect("screenshot");
    if decision == Decision::Approve {
        let code = result
            .as_ref()
            .expect("alice approved: solution05 gets the code");
        let tokens =
            solution05::exchange_code(&client, code, &redirect_uri).expect("the code is good");
        let mut out = Vec::new();
        let count = solution05::collect_posts(
            &client,
            &tokens.access_token,
            &mut out,
            &indicatif::ProgressBar::hidden(),
            &|_| {},
        )
        .expect("the posts are collected");
        assert_eq!(count, 137, "all of alice's posts");
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 137);
        browser
            .open(&format!("{}/_lab", provider.base_url()))
            .expect("the inspector opens");
        browser
            .screenshot(&screenshot_path("solution05-inspector"))
            .expect("screenshot");
    }
    (result, provider, landing.text)
}

fn chromium_plays_alice_for_solution05_which_collects_her_posts(browser: &Arc<Browser>) {
    let (result, _, page) = solution05_flow(browser, Decision::Approve);
    assert!(result.is_ok());
    assert!(
        page.contains("You can close this tab"),
        "solution05's success page: {page}"
    );
}

fn chromium_denies_and_solution05_explains(browser: &Arc<Browser>) {
    let (result, _, page) = solution05_flow(browser, Decision::Deny);
    let error = result.expect_err("alice denied");
    assert!(
        matches!(error, labkit::CallbackError::Denied { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("access was denied in the browser"),
        "{error}"
    );
    assert!(page.contains("You did not allow access"), "{page}");
}

/// solution06 as a public client with PKCE, in Chromium: its own listener on a
/// free port, the challenge in the URL, the verifier at the token endpoint.
fn chromium_plays_alice_for_solution06_with_pkce(browser: &Arc<Browser>) {
    let provider = provider();
    let client = lab_tests::support::public_client_for(&provider);
    let (server, redirect_uri) = solution06::bind_loopback(0).expect("solution06's listener");
    let state = solution06::new_state();
    let verifier = solution06::new_verifier();
    let url = solution06::authorization_url(
        &client,
        &redirect_uri,
        &state,
        &solution06::code_challenge(&verifier),
    );
    let person = browser.authorize_in_background(&url, Person::alice(), Decision::Approve);
    let deadline = std::time::Instant::now() + PATIENCE;
    let code = solution06::wait_for_callback(&server, &state, client.iss.as_deref(), deadline)
        .expect("alice approved: solution06 gets the code");
    let landing = person
        .join()
        .expect("the browser thread ends")
        .expect("the browser lands on the listener");
    assert!(
        landing.text.contains("You can close this tab"),
        "{landing:?}"
    );
    let tokens = solution06::exchange_code(&client, &code, &redirect_uri, &verifier)
        .expect("the code and the verifier give tokens");
    let me = lab_tests::support::get_with_token(
        &format!("{}/api/me", provider.base_url()),
        tokens.access_token.expose(),
    );
    assert_eq!(me.status, 200, "{}", me.body);
    browser
        .screenshot(&screenshot_path("solution06-pkce"))
        .expect("screenshot");
}

/// One Chromium for every case, one after another: starting a browser costs
/// more than a case, and the suite must stay fast.
/// Class mode (book/src/appendix/instructor.md, "Class mode"): a student logs in
/// with the password of their handout; the demo users are not offered; the
/// inspector names each flow's student and lesson, and `?student=` keeps one
/// student's flows. The screenshots are the instructor guide's.
fn chromium_plays_a_student_in_class_mode(browser: &Arc<Browser>) {
    let dir = std::env::temp_dir().join(format!("browser-class-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    mock_provider::write_class(&dir, 3, None, None).expect("class-init writes the class");
    let mut config = Config::default();
    config.add_from_file(&dir.join("class.toml")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let password = |name: &str| {
        config
            .users
            .iter()
            .find(|u| u.username == name)
            .map(|u| u.password.clone())
            .unwrap()
    };
    let passwords: Vec<String> = config.users.iter().map(|u| u.password.clone()).collect();
    let student02 = Person::new("student02", &password("student02"));
    let provider = MockProvider::start(config).expect("the class provider starts");
    let base = provider.base_url().to_string();
    // What labkit does first: read the metadata, naming the program and client.
    let announce = |program: &str, client: &str| {
        let answer = agent()
            .get(&format!("{base}/.well-known/oauth-authorization-server"))
            .header(
                "User-Agent",
                &format!("oauth2-lab/{program} (client {client})"),
            )
            .call()
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    };
    let url_for = |client: &str, redirect_uri: &str, extra: &[(&str, &str)]| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", client)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "profile posts:read")
            .append_pair("state", &fresh_state());
        for (k, v) in extra {
            query.append_pair(k, v);
        }
        format!("{base}/authorize?{}", query.finish())
    };

    // student02 runs lesson 03 and logs in in the browser.
    announce("lesson03", "student02-app");
    let loopback = Loopback::start();
    browser
        .open(&url_for("student02-app", &loopback.redirect_uri(), &[]))
        .unwrap();
    let consent = browser
        .wait_for_text("the class's consent page", |t| {
            t.contains("wants to access")
        })
        .unwrap();
    assert!(
        consent.contains("the username and password you were given")
            && !consent.contains("demo users"),
        "{consent}"
    );
    for secret in passwords.iter().map(String::as_str).chain(["wonderland"]) {
        assert!(
            !consent.contains(secret),
            "the consent page shows a password"
        );
    }
    browser
        .screenshot(&screenshot_path("class-consent"))
        .unwrap();
    browser.decide(&student02, Decision::Approve).unwrap();
    let target = loopback.request();
    let code = query_param(&target, "code").expect("a code for student02");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", &loopback.redirect_uri())
        .finish();
    let mut response = agent()
        .post(&format!("{base}/token"))
        .header(
            "Authorization",
            &format!(
                "Basic {}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    "student02-app:lab-secret"
                )
            ),
        )
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(body.as_str())
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let json: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    let token = json["access_token"].as_str().unwrap().to_string();
    assert_eq!(api(&provider, "/api/me", &token)["username"], "student02");
    // Then lesson 04, left at the login page; student01 and student03 start too.
    announce("lesson04", "student02-app");
    assert_eq!(
        agent()
            .get(&url_for(
                "student02-app",
                "http://127.0.0.1:8000/callback",
                &[]
            ))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    announce("lesson06", "student01-public");
    let pkce = [
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ];
    provider
        .resource_owner("student01")
        .approve(&url_for(
            "student01-public",
            "http://127.0.0.1:8000/callback",
            &pkce,
        ))
        .unwrap();
    announce("lesson03", "student03-app");
    agent()
        .get(&url_for(
            "student03-app",
            "http://127.0.0.1:8000/callback",
            &[],
        ))
        .call()
        .unwrap();

    browser
        .open(&format!("{base}/_lab?student=student02"))
        .unwrap();
    let inspector = browser
        .wait_for_text("student02's flows in the inspector", |t| {
            t.contains("lesson03") && t.contains("lesson04") && t.contains("Live:")
        })
        .unwrap();
    assert!(
        !inspector.contains("student01-public") && !inspector.contains("student03-app"),
        "another student's flow under student02:\n{inspector}"
    );
    let source = browser.source().unwrap();
    for secret in passwords.iter().chain([&code, &token]) {
        assert!(
            !source.contains(secret.as_str()),
            "the inspector shows {} whole",
            mock_provider::shorten(secret)
        );
    }
    browser
        .screenshot(&screenshot_path("class-inspector"))
        .unwrap();
    browser.open(&format!("{base}/_lab/class")).unwrap();
    browser
        .wait_for_text("the class view", |t| t.contains("student03"))
        .unwrap();
    browser
        .screenshot(&screenshot_path("class-mode-view"))
        .unwrap();
}

#[test]
fn a_real_browser_plays_the_student() {
    let Some(browser) = browser::start_or_skip("a_real_browser_plays_the_student") else {
        return;
    };
    let browser = Arc::new(browser);
    type Case = fn(&Arc<Browser>);
    let cases: [(&str, Case); 7] = [
        (
            "approve",
            chromium_logs_in_as_alice_approves_and_the_listener_gets_the_code,
        ),
        ("deny", chromium_denies_and_the_listener_gets_access_denied),
        (
            "error page",
            chromium_shows_the_error_page_and_goes_nowhere_for_an_unregistered_redirect_uri,
        ),
        (
            "solution05 approve",
            chromium_plays_alice_for_solution05_which_collects_her_posts,
        ),
        ("solution05 deny", chromium_denies_and_solution05_explains),
        (
            "solution06 PKCE",
            chromium_plays_alice_for_solution06_with_pkce,
        ),
        ("class mode", chromium_plays_a_student_in_class_mode),
    ];
    for (name, case) in cases {
        let started = std::time::Instant::now();
        case(&browser);
        eprintln!("real browser: {name} passed in {:?}", started.elapsed());
    }
}
