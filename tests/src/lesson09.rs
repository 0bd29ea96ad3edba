//! Lesson 09 — No browser here: the device authorization grant (RFC 8628
//! §3.1–3.5).
//!
//! Against the mock provider, whose clock moves only when the lesson's `sleep`
//! is called (so no check waits for real), and against `Scripted` replicas for
//! sequences a correct provider does not produce on demand (`slow_down` in a
//! row, a provider that never stops saying `authorization_pending`).
//!
//! The lesson's types (`DeviceAuthorization`, `DeviceError`) belong to its
//! crate, so the suite reaches them through the [`Lesson`] trait, which
//! [`lesson09_suite!`](crate::lesson09_suite) implements for each crate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use labkit::{Client, ErrorCode, Secret, TokenError, Tokens};
use mock_provider::{Config, ManualClock, MockProvider};

use crate::support::{Scripted, client_at, get_with_token, json_answer, public_client_for, within};

/// A device authorization, copied out of the lesson's own type.
#[derive(Clone, Debug)]
pub struct Device {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    pub interval: u64,
    /// `format!("{authorization:?}")`.
    pub debug: String,
}

/// How polling ended without tokens, copied out of the lesson's `DeviceError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    Denied,
    Expired,
    Token(TokenError),
}

/// What the suite needs of a lesson 09 crate.
pub trait Lesson {
    fn request_device_code(client: &Client) -> Result<Device, TokenError>;
    fn poll_for_tokens(
        client: &Client,
        device: &Device,
        sleep: &dyn Fn(Duration),
    ) -> Result<Tokens, Ended>;
}

const SCOPE: &str = "profile posts:read";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn provider_with_clock() -> (MockProvider, ManualClock) {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone()))
        .expect("the mock provider starts");
    (p, clock)
}

/// A device authorization for `client`, asked for by the suite itself, so that
/// the polling checks do not depend on step 1.
fn device_for(client: &Client) -> Device {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut form = vec![("client_id", client.client_id.as_str()), ("scope", SCOPE)];
    let secret;
    if let Some(s) = &client.client_secret {
        secret = s.expose().to_string();
        form.push(("client_secret", &secret));
    }
    let mut answer = agent
        .post(client.device_url.as_deref().expect("a device_url"))
        .send_form(form)
        .expect("the mock provider answers");
    let json: serde_json::Value =
        serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
    let text = |name: &str| json[name].as_str().unwrap().to_string();
    Device {
        device_code: Secret::new(text("device_code")),
        user_code: text("user_code"),
        verification_uri: text("verification_uri"),
        verification_uri_complete: Some(text("verification_uri_complete")),
        expires_in: json["expires_in"].as_u64().unwrap(),
        interval: json["interval"].as_u64().unwrap(),
        debug: String::new(),
    }
}

/// A `sleep` that moves the provider's clock instead of waiting, and records
/// each wait; `before` runs first with the wait's number (1, 2, …).
fn clock_sleep(
    clock: &ManualClock,
    before: impl Fn(usize) + Send + 'static,
) -> (
    impl Fn(Duration) + Send + 'static,
    Arc<Mutex<Vec<Duration>>>,
) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let (clock, log) = (clock.clone(), waits.clone());
    let sleep = move |d: Duration| {
        let n = {
            let mut log = log.lock().unwrap();
            log.push(d);
            log.len()
        };
        before(n);
        clock.advance(d);
    };
    (sleep, waits)
}

fn waits(log: &Arc<Mutex<Vec<Duration>>>) -> Vec<u64> {
    log.lock().unwrap().iter().map(Duration::as_secs).collect()
}

// Step 1 ----------------------------------------------------------------------

pub fn device_code_request_gets_both_codes<L: Lesson>() {
    let p = crate::support::provider();
    let device = L::request_device_code(&public_client_for(&p))
        .unwrap_or_else(|e| panic!("lab-public asking for a device code should succeed: {e}"));
    assert!(
        device.device_code.expose().starts_with("lab_dc_"),
        "device_code is the provider's device_code, as sent"
    );
    assert_eq!(
        device.user_code.len(),
        9,
        "user_code as sent: {:?}",
        device.user_code
    );
    let page = format!("{}/device", p.base_url());
    assert_eq!(device.verification_uri, page);
    assert_eq!(
        device.verification_uri_complete,
        Some(format!("{page}?user_code={}", device.user_code)),
        "keep verification_uri_complete when the provider sends it"
    );
    assert_eq!((device.expires_in, device.interval), (600, 5));
}

/// RFC 8628 §3.2: `interval` is optional, 5 s when absent; so is
/// `verification_uri_complete`.
pub fn device_code_request_is_a_form_with_client_id_and_scope<L: Lesson>() {
    let endpoint = Scripted::start(vec![json_answer(
        200,
        r#"{"device_code":"replica-dc","user_code":"BCDF-GHJK","verification_uri":"https://replica.example/device","expires_in":900}"#,
    )]);
    let client = client_at(&endpoint.base);
    let device = L::request_device_code(&client).unwrap_or_else(|e| panic!("{e}"));
    let received = endpoint.received();
    assert_eq!(received.len(), 1, "one request, got {}", received.len());
    let r = &received[0];
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("POST", "/device_authorization"),
        "POST to client.device_url (RFC 8628 §3.1)"
    );
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")),
        "the body is a form: use send_form (got Content-Type {:?})",
        r.header("content-type")
    );
    assert_eq!(r.form("client_id").as_deref(), Some("lab-client"));
    assert_eq!(r.form("scope").as_deref(), Some(SCOPE));
    assert_eq!(
        r.header("authorization"),
        Some("Basic bGFiLWNsaWVudDpsYWItc2VjcmV0"),
        "a client with a secret authenticates with HTTP Basic (basic_auth)"
    );
    assert_eq!(
        r.form("client_secret"),
        None,
        "the secret goes in the header only"
    );
    assert_eq!(device.device_code.expose(), "replica-dc");
    assert_eq!(device.user_code, "BCDF-GHJK");
    assert_eq!(device.verification_uri_complete, None);
    assert_eq!(device.expires_in, 900);
    assert_eq!(
        device.interval, 5,
        "no interval in the answer: 5 s (RFC 8628 §3.2)"
    );

    // A public client only names itself.
    let endpoint = Scripted::start(vec![json_answer(
        200,
        r#"{"device_code":"d","user_code":"u","verification_uri":"v","expires_in":60,"interval":7}"#,
    )]);
    let client = Client {
        client_id: "lab-public".into(),
        client_secret: None,
        ..client_at(&endpoint.base)
    };
    let device = L::request_device_code(&client).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(device.interval, 7);
    let r = &endpoint.received()[0];
    assert_eq!(
        r.header("authorization"),
        None,
        "a public client has no secret to send"
    );
    assert_eq!(r.form("client_id").as_deref(), Some("lab-public"));
}

pub fn device_code_request_errors_are_typed<L: Lesson>() {
    let endpoint = Scripted::start(vec![
        json_answer(
            401,
            r#"{"error":"invalid_client","error_description":"replica says no"}"#,
        ),
        json_answer(400, r#"{"error":"invalid_scope"}"#),
        (503, vec![], "down".to_string()),
        (
            200,
            vec![("Content-Type", "text/html".to_string())],
            "<html>proxy login</html>".to_string(),
        ),
    ]);
    let client = client_at(&endpoint.base);
    assert_eq!(
        L::request_device_code(&client).err(),
        Some(TokenError::Rejected {
            status: 401,
            code: ErrorCode::InvalidClient,
            description: Some("replica says no".into())
        }),
        "a 4xx carries an RFC 6749 §5.2 error: TokenError::Rejected (token_error does it)"
    );
    assert!(matches!(
        L::request_device_code(&client),
        Err(TokenError::Rejected {
            code: ErrorCode::InvalidScope,
            ..
        })
    ));
    assert_eq!(
        L::request_device_code(&client).err(),
        Some(TokenError::ServerError { status: 503 })
    );
    assert!(
        matches!(
            L::request_device_code(&client),
            Err(TokenError::NotJson { status: 200, .. })
        ),
        "a 200 that is not JSON: TokenError::NotJson"
    );
}

pub fn device_code_never_shows_in_debug_output<L: Lesson>() {
    let p = crate::support::provider();
    let device = L::request_device_code(&public_client_for(&p)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !device.debug.contains(device.device_code.expose()),
        "Debug shows the device code: keep it a labkit::Secret ({})",
        device.debug
    );
    assert!(device.debug.contains(&device.user_code), "{}", device.debug);
}

// Step 2 ----------------------------------------------------------------------

pub fn approved_device_gets_tokens_that_work<L: Lesson>() {
    let (p, clock) = provider_with_clock();
    let client = public_client_for(&p);
    let device = device_for(&client);
    p.resource_owner("alice")
        .approve_device(&device.verification_uri, &device.user_code)
        .expect("alice approves");
    let (sleep, log) = clock_sleep(&clock, |_| {});
    let tokens = within(10, "polling an approved device code", move || {
        L::poll_for_tokens(&client, &device, &sleep)
    })
    .unwrap_or_else(|e| panic!("an approved device code should give tokens, got {e:?}"));
    assert!(tokens.refresh_token.is_some(), "keep the refresh token");
    let me = get_with_token(
        &format!("{}/api/me", p.base_url()),
        tokens.access_token.expose(),
    );
    assert_eq!(me.status, 200, "{}", me.body);
    assert!(me.body.contains("\"alice\""));
    assert_eq!(
        waits(&log),
        vec![5],
        "wait the interval (5 s) with `sleep` before polling; nobody decides in no time"
    );
}

/// RFC 8628 §3.5: `authorization_pending` means ask again after the interval.
pub fn pending_then_tokens<L: Lesson>() {
    let (p, clock) = provider_with_clock();
    let client = public_client_for(&p);
    let device = device_for(&client);
    let owner = p.resource_owner("alice");
    let (uri, code) = (device.verification_uri.clone(), device.user_code.clone());
    // alice gets to her phone during the third wait.
    let (sleep, log) = clock_sleep(&clock, move |n| {
        if n == 3 {
            owner.approve_device(&uri, &code).expect("alice approves");
        }
    });
    let result = within(10, "polling while alice decides", move || {
        L::poll_for_tokens(&client, &device, &sleep)
    });
    assert!(
        result.is_ok(),
        "two authorization_pending, then tokens: got {result:?}"
    );
    assert_eq!(
        waits(&log),
        vec![5, 5, 5],
        "wait the interval before each poll"
    );
    let outcomes: Vec<String> = p
        .events()
        .iter()
        .filter(|e| e.request == "POST /token")
        .map(|e| e.outcome.split(':').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| *o == "authorization_pending")
            .count(),
        2,
        "alice decided during the third wait, so two authorization_pending answers come first: wait the interval before every poll, the first one included: {outcomes:?}"
    );
    assert!(
        !outcomes.iter().any(|o| o == "slow_down"),
        "polling at the interval never earns slow_down: {outcomes:?}"
    );
}

const PENDING: &str = r#"{"error":"authorization_pending"}"#;
const SLOW_DOWN: &str = r#"{"error":"slow_down"}"#;
const TOKENS: &str = r#"{"access_token":"replica-at","token_type":"Bearer","expires_in":60,"refresh_token":"replica-rt"}"#;

fn replica_device(code: &str, expires_in: u64) -> Device {
    Device {
        device_code: Secret::new(code),
        user_code: "BCDF-GHJK".into(),
        verification_uri: "https://replica.example/device".into(),
        verification_uri_complete: None,
        expires_in,
        interval: 5,
        debug: String::new(),
    }
}

/// A `sleep` that only records.
fn recording_sleep() -> (
    impl Fn(Duration) + Send + 'static,
    Arc<Mutex<Vec<Duration>>>,
) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let log = waits.clone();
    (move |d| log.lock().unwrap().push(d), waits)
}

/// Polls a replica at `base` for the device code "dc" (600 s to live), waits
/// recorded instead of slept: what it returned, and every wait it asked for.
fn poll_replica<L: Lesson>(base: &str) -> (Result<Tokens, Ended>, Arc<Mutex<Vec<Duration>>>) {
    let client = client_at(base);
    let (sleep, log) = recording_sleep();
    let result = within(10, "polling a replica", move || {
        L::poll_for_tokens(&client, &replica_device("dc", 600), &sleep)
    });
    (result, log)
}

/// RFC 8628 §3.5: each `slow_down` adds 5 s to the interval, for good.
pub fn slow_down_adds_5_s_to_the_interval<L: Lesson>() {
    let endpoint = Scripted::start(vec![
        json_answer(400, PENDING),
        json_answer(400, SLOW_DOWN),
        json_answer(400, PENDING),
        json_answer(400, SLOW_DOWN),
        json_answer(200, TOKENS),
    ]);
    let (result, log) = poll_replica::<L>(&endpoint.base);
    assert_eq!(
        result.map(|t| t.access_token.expose().to_string()),
        Ok("replica-at".to_string())
    );
    assert_eq!(
        waits(&log),
        vec![5, 5, 10, 10, 15],
        "the waits before each poll: slow_down makes the interval 5 s longer from then on"
    );
}

pub fn the_poll_is_a_form_with_the_device_grant<L: Lesson>() {
    let endpoint = Scripted::start(vec![json_answer(200, TOKENS)]);
    let nonce = format!("dc-{}", std::process::id());
    let public = Client {
        client_id: "lab-public".into(),
        client_secret: None,
        ..client_at(&endpoint.base)
    };
    let (sleep, _) = recording_sleep();
    let device = replica_device(&nonce, 600);
    let result = within(10, "polling a replica", move || {
        L::poll_for_tokens(&public, &device, &sleep)
    });
    assert!(result.is_ok(), "{result:?}");
    let received = endpoint.received();
    assert_eq!(received.len(), 1, "one poll, got {}", received.len());
    let r = &received[0];
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("POST", "/token"),
        "poll client.token_url with a POST (RFC 8628 §3.4)"
    );
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")),
        "the body is a form (got Content-Type {:?})",
        r.header("content-type")
    );
    for (field, value) in [
        ("grant_type", GRANT),
        ("device_code", nonce.as_str()),
        ("client_id", "lab-public"),
    ] {
        assert_eq!(
            r.form(field).as_deref(),
            Some(value),
            "the form needs {field}={value}"
        );
    }
    assert_eq!(r.header("authorization"), None);
    // A confidential client authenticates as well.
    let endpoint = Scripted::start(vec![json_answer(200, TOKENS)]);
    poll_replica::<L>(&endpoint.base)
        .0
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        endpoint.received()[0].header("authorization"),
        Some("Basic bGFiLWNsaWVudDpsYWItc2VjcmV0"),
        "a client with a secret authenticates with HTTP Basic (basic_auth)"
    );
}

pub fn denied_is_access_denied<L: Lesson>() {
    let (p, clock) = provider_with_clock();
    let client = public_client_for(&p);
    let device = device_for(&client);
    p.resource_owner("alice")
        .deny_device(&device.verification_uri, &device.user_code)
        .expect("alice denies");
    let (sleep, _) = clock_sleep(&clock, |_| {});
    let result = within(10, "polling a denied device code", move || {
        L::poll_for_tokens(&client, &device, &sleep)
    });
    assert_eq!(
        result.err(),
        Some(Ended::Denied),
        "access_denied (RFC 8628 §3.5) is DeviceError::Denied"
    );
}

pub fn expired_is_expired_token<L: Lesson>() {
    let (p, clock) = provider_with_clock();
    let client = public_client_for(&p);
    let device = device_for(&client);
    // The first wait lasts longer than the code lives (the laptop slept).
    let slept = clock.clone();
    let (sleep, _) = clock_sleep(&clock, move |n| {
        if n == 1 {
            slept.advance(Duration::from_secs(600));
        }
    });
    let result = within(10, "polling an expired device code", move || {
        L::poll_for_tokens(&client, &device, &sleep)
    });
    assert_eq!(
        result.err(),
        Some(Ended::Expired),
        "the provider's expired_token (RFC 8628 §3.5) is DeviceError::Expired"
    );
}

pub fn endless_pending_stops_at_expires_in<L: Lesson>() {
    let endpoint = Scripted::start(vec![json_answer(400, PENDING)]);
    let client = client_at(&endpoint.base);
    let (sleep, log) = recording_sleep();
    let result = within(
        10,
        "polling a provider that always says pending (stop with DeviceError::Expired once the time waited plus the interval reaches expires_in)",
        move || L::poll_for_tokens(&client, &replica_device("dc", 30), &sleep),
    );
    assert_eq!(
        result.err(),
        Some(Ended::Expired),
        "past expires_in the device code is dead, whatever the provider says: DeviceError::Expired"
    );
    let total: u64 = waits(&log).iter().sum();
    assert!(
        (25..=30).contains(&total),
        "wait until the code's 30 s are up, no longer: waited {total} s ({:?})",
        waits(&log)
    );
    let polls = endpoint.received().len();
    assert!(
        (5..=6).contains(&polls),
        "one poll per 5 s interval in 30 s, got {polls}"
    );
}

pub fn other_errors_are_typed<L: Lesson>() {
    for (canned, expected) in [
        (
            json_answer(
                400,
                r#"{"error":"invalid_grant","error_description":"gone"}"#,
            ),
            TokenError::Rejected {
                status: 400,
                code: ErrorCode::InvalidGrant,
                description: Some("gone".into()),
            },
        ),
        (
            (500, vec![], "oops".to_string()),
            TokenError::ServerError { status: 500 },
        ),
    ] {
        let endpoint = Scripted::start(vec![canned]);
        let (result, _) = poll_replica::<L>(&endpoint.base);
        assert_eq!(
            result.err(),
            Some(Ended::Token(expected.clone())),
            "anything but the RFC 8628 §3.5 codes ends polling with DeviceError::Token"
        );
    }
}

/// GitHub answers each poll with HTTP 200: `{"error":"authorization_pending"}`
/// is still "not yet" (and a form-encoded `error=slow_down` still "slower"),
/// not a token answer without a token.
pub fn pending_with_http_200_keeps_polling<L: Lesson>() {
    let endpoint = Scripted::start(vec![
        json_answer(200, PENDING),
        (
            200,
            vec![(
                "Content-Type",
                "application/x-www-form-urlencoded".to_string(),
            )],
            "error=slow_down&error_description=Too+many+requests".to_string(),
        ),
        json_answer(200, TOKENS),
    ]);
    let (result, log) = poll_replica::<L>(&endpoint.base);
    assert_eq!(
        result.map(|t| t.access_token.expose().to_string()),
        Ok("replica-at".to_string()),
        "an `error` field is an error whatever the status (GitHub says \"not yet\" with HTTP 200)"
    );
    assert_eq!(waits(&log), vec![5, 5, 10]);
}

/// Google names the page `verification_url`; it means `verification_uri`.
pub fn verification_url_is_read_as_verification_uri<L: Lesson>() {
    let endpoint = Scripted::start(vec![json_answer(
        200,
        r#"{"device_code":"dc","user_code":"GQVQ-JKEC","verification_url":"https://www.google.com/device","expires_in":1800,"interval":5}"#,
    )]);
    let client = client_at(&endpoint.base);
    let device = within(10, "asking a replica for a device code", move || {
        L::request_device_code(&client)
    })
    .unwrap_or_else(|e| panic!("an answer with verification_url is a device authorization: {e}"));
    assert_eq!(device.verification_uri, "https://www.google.com/device");
}

/// A token endpoint on 127.0.0.1 that closes the first `failures` connections
/// without answering, then answers every poll with tokens.
fn flaky_token_endpoint(failures: usize) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            if n < failures {
                continue; // dropped: the connection closes with no answer
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{TOKENS}",
                TOKENS.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    base
}

/// RFC 8628 §3.5: when the connection times out or breaks, poll less often
/// (the interval doubles) and try again, instead of giving up.
pub fn connection_trouble_doubles_the_interval<L: Lesson>() {
    let client = client_at(&flaky_token_endpoint(2));
    let (sleep, log) = recording_sleep();
    let result = within(20, "polling a flaky replica", move || {
        L::poll_for_tokens(&client, &replica_device("dc", 600), &sleep)
    });
    assert_eq!(
        result.map(|t| t.access_token.expose().to_string()),
        Ok("replica-at".to_string()),
        "a broken connection while polling is not the end: wait longer and poll again"
    );
    assert_eq!(
        waits(&log),
        vec![5, 10, 20],
        "the waits before each poll: each connection failure doubles the interval"
    );
}

#[macro_export]
#[doc(hidden)]
macro_rules! lesson09_impl {
    ($k:ident) => {
        struct Lesson09Crate;
        impl $crate::lesson09::Lesson for Lesson09Crate {
            fn request_device_code(
                client: &labkit::Client,
            ) -> Result<$crate::lesson09::Device, labkit::TokenError> {
                $k::request_device_code(client).map(|d| $crate::lesson09::Device {
                    debug: format!("{d:?}"),
                    device_code: d.device_code,
                    user_code: d.user_code,
                    verification_uri: d.verification_uri,
                    verification_uri_complete: d.verification_uri_complete,
                    expires_in: d.expires_in,
                    interval: d.interval,
                })
            }
            fn poll_for_tokens(
                client: &labkit::Client,
                device: &$crate::lesson09::Device,
                sleep: &dyn Fn(std::time::Duration),
            ) -> Result<labkit::Tokens, $crate::lesson09::Ended> {
                let authorization = $k::DeviceAuthorization {
                    device_code: device.device_code.clone(),
                    user_code: device.user_code.clone(),
                    verification_uri: device.verification_uri.clone(),
                    verification_uri_complete: device.verification_uri_complete.clone(),
                    expires_in: device.expires_in,
                    interval: device.interval,
                };
                $k::poll_for_tokens(client, &authorization, sleep).map_err(|e| match e {
                    $k::DeviceError::Denied => $crate::lesson09::Ended::Denied,
                    $k::DeviceError::Expired => $crate::lesson09::Ended::Expired,
                    $k::DeviceError::Token(t) => $crate::lesson09::Ended::Token(t),
                })
            }
        }
    };
}

#[macro_export]
macro_rules! lesson09_suite {
    ($k:ident) => { $crate::lesson09_suite!(tests, $k); };
    (tests, $k:ident) => {
        $crate::lesson09_impl!($k);
        $crate::lesson09_suite!(@checks tests);
    };
    (list, $k:ident) => {{
        $crate::lesson09_impl!($k);
        $crate::lesson09_suite!(@checks list)
    }};
    (@checks $mode:ident) => {
        $crate::suite! { $mode;
            device_code_request_gets_both_codes => $crate::lesson09::device_code_request_gets_both_codes::<Lesson09Crate>();
            device_code_request_is_a_form_with_client_id_and_scope => $crate::lesson09::device_code_request_is_a_form_with_client_id_and_scope::<Lesson09Crate>();
            device_code_request_errors_are_typed => $crate::lesson09::device_code_request_errors_are_typed::<Lesson09Crate>();
            device_code_never_shows_in_debug_output => $crate::lesson09::device_code_never_shows_in_debug_output::<Lesson09Crate>();
            approved_device_gets_tokens_that_work => $crate::lesson09::approved_device_gets_tokens_that_work::<Lesson09Crate>();
            pending_then_tokens => $crate::lesson09::pending_then_tokens::<Lesson09Crate>();
            slow_down_adds_5_s_to_the_interval => $crate::lesson09::slow_down_adds_5_s_to_the_interval::<Lesson09Crate>();
            the_poll_is_a_form_with_the_device_grant => $crate::lesson09::the_poll_is_a_form_with_the_device_grant::<Lesson09Crate>();
            denied_is_access_denied => $crate::lesson09::denied_is_access_denied::<Lesson09Crate>();
            expired_is_expired_token => $crate::lesson09::expired_is_expired_token::<Lesson09Crate>();
            endless_pending_stops_at_expires_in => $crate::lesson09::endless_pending_stops_at_expires_in::<Lesson09Crate>();
            other_errors_are_typed => $crate::lesson09::other_errors_are_typed::<Lesson09Crate>();
            pending_with_http_200_keeps_polling => $crate::lesson09::pending_with_http_200_keeps_polling::<Lesson09Crate>();
            verification_url_is_read_as_verification_uri => $crate::lesson09::verification_url_is_read_as_verification_uri::<Lesson09Crate>();
            connection_trouble_doubles_the_interval => $crate::lesson09::connection_trouble_doubles_the_interval::<Lesson09Crate>();
        }
    };
}
