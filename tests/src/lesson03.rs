//! Lesson 03 — Ask for permission: state, the authorization URL, and waiting
//! for one valid callback (RFC 6749 §4.1.1, §4.1.2, §10.12).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{CallbackError, Client, Secret};
use mock_provider::MockProvider;

use crate::randomness;
use crate::support::{client_at, client_for, get, provider, try_get, within};

type NewState = fn() -> String;
type AuthorizationUrl = fn(&Client, &str, &str) -> String;
type WaitForCallback =
    fn(&labkit::Listener, &str, Option<&str>, Instant) -> Result<Secret, CallbackError>;

/// RFC 6749 §10.10, §10.12: the state must be unguessable. Length and
/// alphabet first, then the bytes themselves (see `randomness`).
pub fn state_is_long_random_and_url_safe(new_state: NewState) {
    let states: Vec<String> = (0..randomness::SAMPLES).map(|_| new_state()).collect();
    let distinct: HashSet<_> = states.iter().collect();
    assert!(
        distinct.len() == states.len(),
        "new_state gave the same state twice in {} calls: an attacker must not be able to guess the next one. Make each from fresh random bytes",
        states.len()
    );
    let mut bytes = Vec::new();
    for s in &states {
        assert!(
            s.len() >= 22,
            "state {s:?} is too short: use at least 16 random bytes (128 bits), e.g. 32 bytes in base64url"
        );
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "state {s:?} should be URL-safe (base64url: A-Z a-z 0-9 - _)"
        );
        bytes.push(URL_SAFE_NO_PAD.decode(s).unwrap_or_else(|_| {
            panic!("state {s:?} is not base64url without padding: encode the random bytes with URL_SAFE_NO_PAD")
        }));
    }
    if let Err(why) = randomness::judge("state", &bytes) {
        panic!("{why} (RFC 6749 §10.10)");
    }
}

fn example_client() -> Client {
    client_at("http://127.0.0.1:9000")
}

/// The query of `url` as pairs, with a check that it starts with `endpoint`.
fn query_of(url: &str, endpoint: &str) -> Vec<(String, String)> {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url:?} is not a URL: {e}"));
    let base = format!("{}{}", parsed.origin().ascii_serialization(), parsed.path());
    let expected = endpoint.split('?').next().unwrap();
    assert_eq!(
        base, expected,
        "the URL must start with the authorization endpoint"
    );
    parsed.query_pairs().into_owned().collect()
}

pub fn authorization_url_has_every_parameter_once(authorization_url: AuthorizationUrl) {
    let url = authorization_url(
        &example_client(),
        "http://127.0.0.1:8000/callback",
        "st4te-XYZ",
    );
    let expected = include_str!("expected/lesson03_authorization_url.txt").trim_end();
    assert_eq!(
        url, expected,
        "the authorization URL: the endpoint, then response_type, client_id, redirect_uri, scope and state, each encoded (url's query_pairs_mut)"
    );
    let query = query_of(&url, "http://127.0.0.1:9000/authorize");
    for (name, value) in [
        ("response_type", "code"),
        ("client_id", "lab-client"),
        ("redirect_uri", "http://127.0.0.1:8000/callback"),
        ("scope", "profile posts:read"),
        ("state", "st4te-XYZ"),
    ] {
        let found: Vec<_> = query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            found,
            [value],
            "the URL needs {name}={value:?} exactly once (RFC 6749 §4.1.1), got {found:?} in {url}"
        );
    }
}

pub fn authorization_url_encodes_what_it_is_given(authorization_url: AuthorizationUrl) {
    let mut client = example_client();
    client.client_id = format!("class app & {}", std::process::id());
    client.scope = "a+b c=d".into();
    let url = authorization_url(&client, "http://[::1]:7001/callback?x=1&y=2", "a b&c=d/é");
    let query = query_of(&url, "http://127.0.0.1:9000/authorize");
    let get = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get("client_id"),
        Some(client.client_id.clone()),
        "encode each value (use url's query_pairs_mut)"
    );
    assert_eq!(get("scope").as_deref(), Some("a+b c=d"));
    assert_eq!(
        get("redirect_uri").as_deref(),
        Some("http://[::1]:7001/callback?x=1&y=2")
    );
    assert_eq!(get("state").as_deref(), Some("a b&c=d/é"));
}

pub fn authorization_url_keeps_the_endpoint_query(authorization_url: AuthorizationUrl) {
    let mut client = example_client();
    client.authorize_url = "http://127.0.0.1:9000/authorize?tenant=school".into();
    let url = authorization_url(&client, "http://127.0.0.1:8000/callback", "s");
    let query = query_of(&url, &client.authorize_url);
    assert!(
        query.iter().any(|(n, v)| n == "tenant" && v == "school"),
        "keep the endpoint's own query (RFC 6749 §3.1): {url}"
    );
    assert_eq!(url.matches('?').count(), 1, "one `?` only: {url}");
}

/// A flow against a mock provider: listener, state, URL. `person` acts on the
/// URL in the background (approve, deny, stray requests…); the function's
/// result comes back.
fn flow(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait_for_callback: WaitForCallback,
    client_change: fn(&mut Client),
    person: impl FnOnce(&MockProvider, String, u16) + Send + 'static,
) -> Result<Secret, CallbackError> {
    let provider = Arc::new(provider());
    let mut client = client_for(&provider);
    client_change(&mut client);
    let server = labkit::listen(0).expect("can listen on 127.0.0.1:0");
    let port = labkit::port_of(&server);
    let state = new_state();
    let url = authorization_url(
        &client,
        &format!("http://127.0.0.1:{port}/callback"),
        &state,
    );
    let p = provider.clone();
    std::thread::spawn(move || person(&p, url, port));
    // `provider` lives until the wait is over: the person's thread needs it.
    within(15, "wait_for_callback did not return", move || {
        wait_for_callback(
            &server,
            &state,
            client.iss.as_deref(),
            Instant::now() + Duration::from_secs(10),
        )
    })
}

/// Alice, at the consent page, logs in and approves.
fn alice_approves(p: &MockProvider, url: &str) -> mock_provider::Redirect {
    p.resource_owner("alice")
        .approve(url)
        .expect("alice approves")
}

fn no_change(_: &mut Client) {}

pub fn approval_returns_the_code(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = flow(
        new_state,
        authorization_url,
        wait,
        no_change,
        move |p, url, _| {
            let redirect = alice_approves(p, &url);
            let _ = tx.send((redirect.param("code"), redirect.follow()));
        },
    );
    let code = result.unwrap_or_else(|e| {
        panic!("alice approved, so wait_for_callback should return her code, got: {e}")
    });
    let (sent, page) = rx.recv().unwrap();
    assert_eq!(
        Some(code.expose()),
        sent.as_deref(),
        "return the code the provider sent, as it came"
    );
    let (status, page) = page.expect("the browser got the success page");
    assert_eq!(status, 200, "answer the browser with a page and status 200");
    assert!(
        !page.contains(code.expose()),
        "the success page must not show the code"
    );
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the success page loads nothing from elsewhere"
    );
}

pub fn success_page_sends_no_referrer(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = flow(
        new_state,
        authorization_url,
        wait,
        no_change,
        move |p, url, _| {
            let redirect = alice_approves(p, &url);
            let _ = tx.send(get(&redirect.location));
        },
    );
    result.expect("alice approved");
    let answer = rx.recv().unwrap();
    assert_eq!(
        answer.header("referrer-policy"),
        Some("no-referrer"),
        "the page's URL holds the code: send Referrer-Policy: no-referrer (labkit::page does)"
    );
}

pub fn denial_is_access_denied(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    let result = flow(
        new_state,
        authorization_url,
        wait,
        no_change,
        |p, url, _| {
            let redirect = p.resource_owner("alice").deny(&url).expect("alice denies");
            let _ = redirect.follow();
        },
    );
    match result {
        Err(CallbackError::Denied { .. }) => {}
        other => panic!("alice pressed Deny: expected Err(CallbackError::Denied), got {other:?}"),
    }
}

pub fn provider_errors_end_the_wait(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    let result = flow(
        new_state,
        authorization_url,
        wait,
        |c| c.scope = "profile admin".into(),
        |p, url, _| {
            // An unknown scope: the provider redirects back at once with error=invalid_scope.
            let redirect = p
                .resource_owner("alice")
                .approve(&url)
                .expect("the provider answers");
            let _ = redirect.follow();
        },
    );
    match result {
        Err(CallbackError::Provider { error, .. }) => assert_eq!(error, "invalid_scope"),
        other => panic!(
            "the provider sent error=invalid_scope: expected Err(CallbackError::Provider), got {other:?}"
        ),
    }
}

/// RFC 6749 §10.12: only an answer with our state counts, and a parameter
/// that comes twice counts as absent (which one would be meant?). None of
/// these requests may end the wait; the real callback comes after them.
pub fn stray_requests_do_not_end_the_wait(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let result = flow(
        new_state,
        authorization_url,
        wait,
        no_change,
        move |p, url, port| {
            let base = format!("http://127.0.0.1:{port}");
            // Our own state, for the strays that carry it, with the provider's
            // right `iss` (an `iss` alone ends the wait: see the checks below).
            let state = param_of(&url, "state").unwrap_or_default();
            let state: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
            let iss: String =
                url::form_urlencoded::byte_serialize(p.base_url().as_bytes()).collect();
            let state = format!("{state}&iss={iss}");
            let strays = [
                (
                    "/favicon.ico".to_string(),
                    "the browser's icon request (answer 404)",
                ),
                ("/".to_string(), "a request for another path (answer 404)"),
                (
                    "/callback?code=code-with-wrong-state&state=wrong".to_string(),
                    "a callback with a wrong state (answer 400)",
                ),
                (
                    "/callback?error=access_denied&state=wrong".to_string(),
                    "an error with a wrong state (answer 400: it is not for us)",
                ),
                (
                    "/callback?code=code-without-state".to_string(),
                    "a callback without state (answer 400)",
                ),
                (
                    format!("/callback?state={state}"),
                    "our state but no code and no error (answer 400)",
                ),
                (
                    format!("/callback?code=code-sent-twice&code=x&state={state}"),
                    "our state with two codes (a repeated parameter counts as absent: answer 400)",
                ),
                (
                    format!("/callback?code=code-with-two-states&state={state}&state=other"),
                    "two states, one of them ours (a repeated parameter counts as absent: answer 400)",
                ),
            ];
            let mut statuses = Vec::new();
            for (path, what) in strays {
                let answer = try_get(&format!("{base}{path}")).map(|a| a.status);
                statuses.push((what, answer));
                if answer.is_none() {
                    break;
                }
            }
            let _ = tx.send(statuses);
            let redirect = alice_approves(p, &url);
            let _ = redirect.follow();
        },
    );
    let statuses = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    // The last stray that got an answer before the listener went away.
    let ended_by = || {
        statuses
            .iter()
            .take_while(|(_, s)| s.is_some())
            .last()
            .map_or("one of them", |(what, _)| *what)
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => panic!(
            "stray requests must not end the wait; the real callback came after them. \
             The wait ended with {e:?} after {}",
            ended_by()
        ),
    };
    let accepted = match code.expose() {
        "code-with-wrong-state" => Some("a callback with a wrong state: compare the state first"),
        "code-without-state" => Some("a callback without state: no state is not our state"),
        "code-sent-twice" | "x" => Some(
            "our state with two codes: a parameter that comes twice counts as absent, so there is no code: answer 400 and keep waiting",
        ),
        "code-with-two-states" => Some(
            "two states, one of them ours: a parameter that comes twice counts as absent, so the state does not match",
        ),
        _ => None,
    };
    if let Some(why) = accepted {
        panic!("wait_for_callback returned the code of a stray request, {why}");
    }
    for (what, status) in statuses {
        let status = status.unwrap_or(0);
        assert!((400..500).contains(&status), "{what}: got {status} instead");
    }
}

pub fn junk_and_port_scans_do_not_end_the_wait(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    use std::io::Write;
    let result = flow(
        new_state,
        authorization_url,
        wait,
        no_change,
        |p, url, port| {
            let addr = format!("127.0.0.1:{port}");
            // A port scan: connect, then hang up.
            for _ in 0..5 {
                drop(std::net::TcpStream::connect(&addr));
            }
            // Junk, a half-sent request, a TLS hello to a plain-HTTP port.
            for junk in [
                &b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"[..],
                b"GET /callback?code=x",
                b"NOT HTTP AT ALL\r\n\r\n",
            ] {
                if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                    let _ = s.write_all(junk);
                }
            }
            let redirect = alice_approves(p, &url);
            let _ = redirect.follow();
        },
    );
    result.unwrap_or_else(|e| {
        panic!(
            "junk on the listener must not end the wait; the real callback came after it, got: {e}"
        )
    });
}

pub fn the_deadline_ends_the_wait(wait: WaitForCallback) {
    let server = labkit::listen(0).expect("can listen");
    let started = Instant::now();
    let result = within(5, "wait_for_callback ignored its deadline", move || {
        wait(
            &server,
            "s",
            None,
            Instant::now() + Duration::from_millis(200),
        )
    });
    assert_eq!(
        result,
        Err(CallbackError::TimedOut),
        "nobody came: expected Err(CallbackError::TimedOut)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "stop waiting at the deadline (use recv_timeout)"
    );
}

/// The value of `name` in the query of `url`.
fn param_of(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    })
}

/// Where another provider (or an attacker) says an answer comes from.
pub const ATTACKER_ISS: &str = "http://attacker.example";
/// A code the attacker got from another provider, for the program's listener.
pub const FORGED_CODE: &str = "forged_code_of_attacker_example";

/// A browser that first brings an answer with our state and `extra` (a
/// forged code, a foreign `iss`…), then the real one: alice approves.
/// Returns the status the forged answer got (`None`: no answer).
fn forged_then_real(p: &MockProvider, url: &str, port: u16, extra: &str) -> Option<u16> {
    let state = param_of(url, "state").unwrap_or_default();
    let state: String = url::form_urlencoded::byte_serialize(state.as_bytes()).collect();
    let forged = try_get(&format!(
        "http://127.0.0.1:{port}/callback?state={state}&{extra}"
    ))
    .map(|a| a.status);
    if let Ok(redirect) = p.resource_owner("alice").approve(url) {
        let _ = redirect.follow();
    }
    forged
}

fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// RFC 9207 §2.4 (a mix-up, RFC 9700 §4.4): the provider names itself in
/// every answer (`iss`, its metadata says so). An answer with our state and a
/// code that names another issuer, or none, or names it twice, ends the wait
/// with `CallbackError::MixUp`: its code must never reach a token endpoint. The
/// real answer comes after it; taking that one instead would hide the attack.
pub fn rfc9207_an_answer_from_another_issuer_is_a_mix_up(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    type Forgery = (fn(&str) -> String, &'static str, Option<&'static str>);
    let forgeries: [Forgery; 6] = [
        (
            |_| format!("code=forged-code&iss={}", encoded(ATTACKER_ISS)),
            "a code with iss=http://attacker.example",
            Some(ATTACKER_ISS),
        ),
        (
            |_| "code=forged-code".to_string(),
            "a code without iss, from a provider that always sends one",
            None,
        ),
        (
            |ours| {
                format!(
                    "code=forged-code&iss={}&iss={}",
                    encoded(ours),
                    encoded(ATTACKER_ISS)
                )
            },
            "a code with two iss, one of them right (a parameter sent twice counts as absent)",
            None,
        ),
        (
            |ours| format!("code=forged-code&iss={}", encoded(&format!("{ours}/"))),
            "a code whose iss is the right one plus a slash (compare byte for byte)",
            Some("/"),
        ),
        (
            |ours| format!("code=forged-code&iss={}", encoded(&ours.to_uppercase())),
            "a code whose iss is the right one in capitals (compare byte for byte)",
            Some("HTTP://"),
        ),
        (
            |_| format!("error=access_denied&iss={}", encoded(ATTACKER_ISS)),
            "an error with iss=http://attacker.example (RFC 9207 covers error answers too)",
            Some(ATTACKER_ISS),
        ),
    ];
    for (extra, what, got) in forgeries {
        let (tx, rx) = std::sync::mpsc::channel();
        let result = flow(
            new_state,
            authorization_url,
            wait,
            no_change,
            move |p, url, port| {
                let _ = tx.send(forged_then_real(p, &url, port, &extra(p.base_url())));
            },
        );
        let status = rx.recv_timeout(Duration::from_secs(10)).ok().flatten();
        match result {
            Err(CallbackError::MixUp {
                expected,
                got: said,
            }) => {
                assert!(
                    expected.starts_with("http://127.0.0.1:"),
                    "{what}: MixUp's `expected` is the issuer we asked, got {expected:?}"
                );
                match got {
                    None => assert_eq!(
                        said, None,
                        "{what}: MixUp's `got` is None when iss is missing or sent twice"
                    ),
                    Some(part) => assert!(
                        said.as_deref().is_some_and(|s| s.contains(part)),
                        "{what}: MixUp's `got` is the iss the answer carried, got {said:?}"
                    ),
                }
            }
            Ok(code) if code.expose() == "forged-code" => panic!(
                "wait_for_callback returned the code of {what}: the provider names itself in every answer (RFC 9207), so check `iss` right after the state and stop with CallbackError::MixUp"
            ),
            other => panic!(
                "{what} came first, then alice's real answer: expected Err(CallbackError::MixUp) at the first, got {other:?}; check `iss` right after the state (RFC 9207 §2.4)"
            ),
        }
        let status = status.unwrap_or(0);
        assert!(
            (400..500).contains(&status),
            "{what}: answer the browser with an error page (4xx) before stopping, got {status}"
        );
    }
}

/// RFC 9207 §2.4: with no `iss` expected (the provider's metadata does not
/// promise one: GitHub, Google, LinkedIn), an answer without `iss` is taken.
/// And with one expected, the right `iss` is taken (the real answer).
pub fn rfc9207_no_iss_expected_no_iss_needed(
    new_state: NewState,
    authorization_url: AuthorizationUrl,
    wait: WaitForCallback,
) {
    let result = flow(
        new_state,
        authorization_url,
        wait,
        |c| c.iss = None,
        |_, url, port| {
            let state = encoded(&param_of(&url, "state").unwrap_or_default());
            let _ = try_get(&format!(
                "http://127.0.0.1:{port}/callback?code=code-of-a-provider-without-iss&state={state}"
            ));
        },
    );
    match result {
        Ok(code) => assert_eq!(code.expose(), "code-of-a-provider-without-iss"),
        Err(e) => panic!(
            "the provider does not send iss (iss is None), so an answer without it is fine: expected the code, got {e:?}"
        ),
    }
}

/// The same mix-up checks on `wait_for_callback` alone, without a provider:
/// for the lessons that take lesson 03's callback code as given, so that
/// losing the `iss` check there fails too (RFC 9207 §2.4).
pub fn rfc9207_the_callback_code_refuses_a_mix_up(wait: WaitForCallback) {
    let ours = "http://127.0.0.1:9";
    for (query, expected, what) in [
        (
            format!("code=forged-code&state=st4te&iss={}", encoded(ATTACKER_ISS)),
            Some(ours),
            "a code with our state and iss=http://attacker.example",
        ),
        (
            "code=forged-code&state=st4te".to_string(),
            Some(ours),
            "a code with our state and no iss, from a provider that always sends one",
        ),
        (
            "code=plain-code&state=st4te".to_string(),
            None,
            "a code with our state and no iss, from a provider that sends none",
        ),
    ] {
        let server = labkit::listen(0).expect("can listen on 127.0.0.1:0");
        let port = labkit::port_of(&server);
        std::thread::spawn(move || {
            let _ = try_get(&format!("http://127.0.0.1:{port}/callback?{query}"));
        });
        let result = within(10, "wait_for_callback did not return", move || {
            wait(
                &server,
                "st4te",
                expected,
                Instant::now() + Duration::from_secs(5),
            )
        });
        match (expected, result) {
            (Some(_), Err(CallbackError::MixUp { .. })) => {}
            (None, Ok(code)) if code.expose() == "plain-code" => {}
            (_, other) => panic!(
                "{what}: expected {}, got {other:?} (lesson 03's wait_for_callback checks iss after the state, RFC 9207 §2.4)",
                if expected.is_some() {
                    "Err(CallbackError::MixUp)"
                } else {
                    "the code"
                }
            ),
        }
    }
}

#[macro_export]
macro_rules! lesson03_suite {
    ($k:ident) => { $crate::lesson03_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            state_is_long_random_and_url_safe => $crate::lesson03::state_is_long_random_and_url_safe($k::new_state);
            authorization_url_has_every_parameter_once => $crate::lesson03::authorization_url_has_every_parameter_once($k::authorization_url);
            authorization_url_encodes_what_it_is_given => $crate::lesson03::authorization_url_encodes_what_it_is_given($k::authorization_url);
            authorization_url_keeps_the_endpoint_query => $crate::lesson03::authorization_url_keeps_the_endpoint_query($k::authorization_url);
            approval_returns_the_code => $crate::lesson03::approval_returns_the_code($k::new_state, $k::authorization_url, $k::wait_for_callback);
            success_page_sends_no_referrer => $crate::lesson03::success_page_sends_no_referrer($k::new_state, $k::authorization_url, $k::wait_for_callback);
            denial_is_access_denied => $crate::lesson03::denial_is_access_denied($k::new_state, $k::authorization_url, $k::wait_for_callback);
            provider_errors_end_the_wait => $crate::lesson03::provider_errors_end_the_wait($k::new_state, $k::authorization_url, $k::wait_for_callback);
            stray_requests_do_not_end_the_wait => $crate::lesson03::stray_requests_do_not_end_the_wait($k::new_state, $k::authorization_url, $k::wait_for_callback);
            junk_and_port_scans_do_not_end_the_wait => $crate::lesson03::junk_and_port_scans_do_not_end_the_wait($k::new_state, $k::authorization_url, $k::wait_for_callback);
            rfc9207_an_answer_from_another_issuer_is_a_mix_up => $crate::lesson03::rfc9207_an_answer_from_another_issuer_is_a_mix_up($k::new_state, $k::authorization_url, $k::wait_for_callback);
            rfc9207_no_iss_expected_no_iss_needed => $crate::lesson03::rfc9207_no_iss_expected_no_iss_needed($k::new_state, $k::authorization_url, $k::wait_for_callback);
            the_deadline_ends_the_wait => $crate::lesson03::the_deadline_ends_the_wait($k::wait_for_callback);
        }
    };
}
