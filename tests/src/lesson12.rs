//! Lesson 12 — Defend your client: the attacks of RFC 9700 §4 that a loopback
//! native client must resist, played against the student's functions and
//! their whole program by the lab's attacker (`mock_provider::Attacker`), a
//! second, evil provider beside an honest mock provider.
//!
//! Each check names the RFC section of its attack. Those that run the whole
//! program give it an issuer (the honest provider's or the attacker's) and
//! play the browser on a thread of their own.

use std::io::Read;
use std::time::{Duration, Instant};

use labkit::defend::{Metadata, Page, PendingFlow, Verdict};
use labkit::{CallbackError, LabError, Secret, Tokens};
use mock_provider::{Attack, Attacker, MockProvider};

use crate::support::{get, provider, within};

type Begin = fn(&str, &Metadata, &str, &str) -> Result<PendingFlow, LabError>;
type CheckCallback = fn(&str, &PendingFlow) -> Verdict;
type HostIsOurs = fn(Option<&str>, &str) -> bool;
type PageFor = fn(&Verdict) -> Page;
type Exchange = fn(&PendingFlow, &Secret, Duration) -> Result<Tokens, LabError>;

/// What the suite asks of one run of the program.
pub struct Setup {
    pub issuer: String,
    pub port: u16,
    pub answer_deadline: Duration,
}

/// The lesson's whole program (`run` of `src/given.rs`) as the suite calls it:
/// the setup, the browser (given the authorization URL), where output goes.
pub type Program = fn(&Setup, Box<dyn FnOnce(&str)>, &mut Vec<u8>) -> Result<Tokens, LabError>;

/// The lesson's functions, for the checks that need several.
#[derive(Clone, Copy)]
pub struct Lesson {
    pub begin: Begin,
    pub check_callback: CheckCallback,
    pub host_is_ours: HostIsOurs,
    pub page_for: PageFor,
    pub exchange: Exchange,
    pub program: Program,
}

const ISSUER: &str = "http://127.0.0.1:9000";
const REDIRECT: &str = "http://127.0.0.1:8123/callback";

fn metadata(issuer: &str, token_endpoint: &str) -> Metadata {
    Metadata {
        issuer: issuer.into(),
        authorization_endpoint: format!("{issuer}/authorize"),
        token_endpoint: token_endpoint.into(),
        authorization_response_iss_parameter_supported: true,
    }
}

/// A flow bound to `ISSUER`, made by hand (for the checks of one step).
fn flow_at(token_endpoint: &str) -> PendingFlow {
    PendingFlow {
        issuer: ISSUER.into(),
        authorization_endpoint: format!("{ISSUER}/authorize"),
        token_endpoint: token_endpoint.into(),
        client_id: "lab-public".into(),
        redirect_uri: REDIRECT.into(),
        state: "st4te-of-this-flow".into(),
        verifier: Secret::new("v".repeat(43)),
    }
}

fn attacker(honest: &MockProvider, attack: Attack) -> Attacker {
    honest
        .start_attacker(attack)
        .expect("the lab's attacker starts")
}

/// Runs the program with `issuer`; `browser` gets the authorization URL on a
/// thread of its own. Returns what the program returned, what it wrote, and
/// what the browser returned (`None` if it was never opened).
fn run_program<T: Send + 'static>(
    lesson: &Lesson,
    issuer: &str,
    port: u16,
    answer_deadline: Duration,
    browser: impl FnOnce(String) -> T + Send + 'static,
) -> (Result<Tokens, LabError>, String, Option<T>) {
    let setup = Setup {
        issuer: issuer.into(),
        port,
        answer_deadline,
    };
    let (send, receive) = std::sync::mpsc::channel();
    let open = Box::new(move |url: &str| {
        let url = url.to_string();
        let handle = std::thread::spawn(move || browser(url));
        let _ = send.send(handle);
    });
    let mut out = Vec::new();
    let result = (lesson.program)(&setup, open, &mut out);
    let browsed = receive.try_recv().ok().map(|handle| match handle.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    });
    (result, String::from_utf8_lossy(&out).into_owned(), browsed)
}

/// A query parameter of `url`.
fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| panic!("the authorization URL has no {name}: {url}"))
}

/// A page as the browser gets it: status, headers, body.
fn render(page: Page) -> (u16, Vec<(String, String)>, String) {
    let status = page.status_code().0;
    let headers = page
        .headers()
        .iter()
        .map(|h| (h.field.to_string(), h.value.to_string()))
        .collect();
    let mut body = String::new();
    page.into_reader().read_to_string(&mut body).unwrap();
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------
// Step 1: the flow, bound to its provider

/// RFC 8414 §3.3: metadata that names another issuer than the URL it was read
/// from is refused; otherwise the flow keeps that issuer and that provider's
/// token endpoint, with a fresh state and verifier.
pub fn rfc8414_3_3_the_flow_is_bound_to_the_issuer_it_was_started_with(begin: Begin) {
    let honest = metadata(ISSUER, &format!("{ISSUER}/token"));
    let flow = begin(ISSUER, &honest, "lab-public", REDIRECT)
        .unwrap_or_else(|e| panic!("honest metadata should start a flow, got: {}", e.0));
    assert_eq!(
        flow.issuer, ISSUER,
        "the flow remembers the issuer it was started with"
    );
    assert_eq!(flow.token_endpoint, format!("{ISSUER}/token"));
    assert_eq!(flow.authorization_endpoint, format!("{ISSUER}/authorize"));
    assert_eq!(
        (flow.client_id.as_str(), flow.redirect_uri.as_str()),
        ("lab-public", REDIRECT)
    );
    let other = begin(ISSUER, &honest, "lab-public", REDIRECT).unwrap();
    assert!(
        flow.state.len() >= 43 && flow.state != other.state,
        "each flow gets a fresh, unguessable state (new_state)"
    );
    assert!(
        flow.verifier.expose().len() >= 43 && flow.verifier != other.verifier,
        "each flow gets a fresh verifier (new_verifier)"
    );
    // An impostor at another address claims the honest issuer, with its own
    // token endpoint: the answer would carry the honest iss, the code go to it.
    let impostor = metadata(ISSUER, "http://127.0.0.1:6666/token");
    match begin("http://127.0.0.1:6666", &impostor, "lab-public", REDIRECT) {
        Err(LabError(message)) => assert!(
            message.contains("RFC 8414") || message.contains("issuer"),
            "say why: the metadata names another issuer (RFC 8414 §3.3): {message:?}"
        ),
        Ok(flow) => panic!(
            "metadata read from http://127.0.0.1:6666 but naming issuer {ISSUER} must be refused (RFC 8414 §3.3); the flow would send the code to {}",
            flow.token_endpoint
        ),
    }
}

// ---------------------------------------------------------------------------
// Step 2: the callback, checked in full

fn callback(state: &str, rest: &str) -> String {
    format!("/callback?state={state}&{rest}")
}

/// RFC 9207 §2.4: this flow's state with another issuer's `iss`, or none, or
/// two, is a mix-up: the flow stops without using the code.
pub fn rfc9207_2_4_an_answer_from_another_issuer_is_a_mix_up(check_callback: CheckCallback) {
    let flow = flow_at(&format!("{ISSUER}/token"));
    let iss = url::form_urlencoded::byte_serialize(ISSUER.as_bytes()).collect::<String>();
    let good = callback(&flow.state, &format!("code=lab_code_1&iss={iss}"));
    assert_eq!(
        check_callback(&good, &flow),
        Verdict::Code(Secret::new("lab_code_1")),
        "this flow's state and issuer with a code: the code ({good})"
    );
    for (rest, got) in [
        (
            "code=lab_code_1&iss=http%3A%2F%2F127.0.0.1%3A6666",
            Some("http://127.0.0.1:6666"),
        ),
        ("code=lab_code_1", None),
        (&*format!("code=lab_code_1&iss={iss}&iss={iss}"), None),
        (
            "error=access_denied&iss=http%3A%2F%2F127.0.0.1%3A6666",
            Some("http://127.0.0.1:6666"),
        ),
    ] {
        let target = callback(&flow.state, rest);
        match check_callback(&target, &flow) {
            Verdict::MixUp { got: found } => assert_eq!(
                found.as_deref(),
                got,
                "MixUp carries the iss that came (None when missing or repeated): {target}"
            ),
            other => panic!(
                "{target}: our state but iss {got:?}, not {ISSUER}: a mix-up (RFC 9207 §2.4), got {other:?}"
            ),
        }
    }
}

/// RFC 6749 §10.12, RFC 9700 §4.7 and RFC 6749 §3.1: an answer without this
/// flow's state, once, is not ours (a forged callback, CSRF); another path is
/// not the callback; an error with our state ends the flow.
pub fn rfc9700_4_7_forged_callbacks_are_recognised(check_callback: CheckCallback) {
    let flow = flow_at(&format!("{ISSUER}/token"));
    let state = flow.state.clone();
    let iss = "iss=http%3A%2F%2F127.0.0.1%3A9000";
    for target in [
        format!("/callback?state=someone-elses&code=lab_code_x&{iss}"),
        format!("/callback?code=lab_code_x&{iss}"),
        format!("/callback?state={state}&state=someone-elses&code=lab_code_x&{iss}"),
        format!("/callback?state={state}&state={state}&code=lab_code_x&{iss}"),
        format!("/callback?state={state}&{iss}"),
        format!("/callback?state={state}&code=lab_code_x&code=lab_code_y&{iss}"),
        format!("/callback?state=someone-elses&error=access_denied&{iss}"),
        format!(
            "/callback?state={}&code=lab_code_x&{iss}",
            state.to_uppercase()
        ),
    ] {
        match check_callback(&target, &flow) {
            Verdict::Forged(_) => {}
            other => panic!(
                "{target}: not this flow's answer (a state of its own, exactly once, and one code): Forged, got {other:?}"
            ),
        }
    }
    for target in [
        "/favicon.ico".to_string(),
        format!("/callback/x?state={state}&code=lab_code_x&{iss}"),
        format!("/Callback?state={state}&code=lab_code_x&{iss}"),
        format!("/?state={state}&code=lab_code_x&{iss}"),
    ] {
        assert_eq!(
            check_callback(&target, &flow),
            Verdict::NotHere,
            "{target}: only the redirect URI's path is the callback"
        );
    }
    assert_eq!(
        check_callback(
            &format!("/callback?state={state}&error=access_denied&error_description=no&{iss}"),
            &flow
        ),
        Verdict::Refused(CallbackError::Denied {
            description: Some("no".into())
        }),
        "error=access_denied with our state and issuer: the person said no"
    );
    assert!(
        matches!(
            check_callback(
                &format!("/callback?state={state}&error=server_error&{iss}"),
                &flow
            ),
            Verdict::Refused(CallbackError::Provider { .. })
        ),
        "another error with our state and issuer: the provider refused (RFC 6749 §4.1.2.1)"
    );
}

// ---------------------------------------------------------------------------
// Step 3: the Host

/// RFC 9110 §7.2: a page on another site whose name the attacker points at
/// 127.0.0.1 (DNS rebinding) reaches the listener with its own name in Host.
pub fn rfc9110_7_2_a_foreign_host_is_refused(host_is_ours: HostIsOurs) {
    assert!(
        host_is_ours(Some("127.0.0.1:8123"), REDIRECT),
        "the redirect URI's own host and port"
    );
    for host in [
        Some("evil.example:8123"),
        Some("evil.example"),
        Some("127.0.0.1:8124"),
        Some("127.0.0.1"),
        Some("127.0.0.1:8123.evil.example"),
        Some(""),
        None,
    ] {
        assert!(
            !host_is_ours(host, REDIRECT),
            "Host {host:?} does not name {REDIRECT}: refuse it (DNS rebinding)"
        );
    }
    assert!(
        host_is_ours(Some("[::1]:8123"), "http://[::1]:8123/callback"),
        "on IPv6 loopback, [::1]:PORT"
    );
}

// ---------------------------------------------------------------------------
// Step 4: the pages

/// RFC 9700 §4.2 (Referer), §4.3 (history), §4.11.1 (the client as an open
/// redirector): every page the listener answers sends no Referer, is not
/// cached, shows no code, loads and links nothing, and redirects nowhere.
pub fn rfc9700_4_2_4_pages_leak_nothing(page_for: PageFor) {
    let code = "lab_code_SECRETSECRETSECRET";
    for (verdict, status) in [
        (Verdict::Code(Secret::new(code)), Some(200)),
        (Verdict::NotHere, Some(404)),
        (
            Verdict::Forged("its state is not this flow's".into()),
            Some(400),
        ),
        (
            Verdict::MixUp {
                got: Some("http://127.0.0.1:6666".into()),
            },
            None,
        ),
        (
            Verdict::Refused(CallbackError::Denied { description: None }),
            None,
        ),
        (
            Verdict::Refused(CallbackError::Provider {
                error: "server_error".into(),
                description: None,
            }),
            None,
        ),
    ] {
        let shown = format!("{verdict:?}");
        let (got, headers, body) = render(page_for(&verdict));
        if let Some(status) = status {
            assert_eq!(got, status, "the page for {shown}");
        }
        assert!(
            !(300..400).contains(&got) && header(&headers, "location").is_none(),
            "the page for {shown} redirects: the listener never sends the browser anywhere (RFC 9700 §4.11.1)"
        );
        assert_eq!(
            header(&headers, "referrer-policy"),
            Some("no-referrer"),
            "the page for {shown}: Referrer-Policy: no-referrer, so nothing it leads to learns its URL, which holds the code (RFC 9700 §4.2.4)"
        );
        assert!(
            header(&headers, "cache-control").is_some_and(|v| v.contains("no-store")),
            "the page for {shown}: Cache-Control: no-store (RFC 9700 §4.3)"
        );
        assert!(
            !body.contains(code),
            "the page for {shown} shows the code: it would end up in screenshots and history"
        );
        let lower = body.to_ascii_lowercase();
        for outside in [
            "http://",
            "https://",
            "href=\"//",
            "src=",
            "<a ",
            "<form",
            "url(",
        ] {
            assert!(
                !lower.contains(outside),
                "the page for {shown} links or loads something ({outside:?}): a request from it would carry the code in its Referer (RFC 9700 §4.2)"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Steps 5 and 6: every answer within limits

/// RFC 9700 §4.12: a token endpoint that answers with a redirect is not
/// followed: the code and the verifier would go where it points.
pub fn rfc9700_4_12_a_redirecting_token_endpoint_is_not_followed(exchange: Exchange) {
    let honest = provider();
    let evil = attacker(&honest, Attack::Redirect);
    let flow = flow_at(&format!("{}/token", evil.base_url()));
    let result = within(
        20,
        "the exchange with a redirecting token endpoint",
        move || {
            exchange(
                &flow,
                &Secret::new("lab_code_stolen"),
                Duration::from_secs(5),
            )
        },
    );
    let collected: Vec<_> = evil
        .seen()
        .into_iter()
        .filter(|s| s.path == "/collect")
        .collect();
    assert!(
        collected.is_empty(),
        "the client followed the token endpoint's 307 and sent {collected:?} on: follow no redirect (max_redirects(0), RFC 9700 §4.12)"
    );
    match result {
        Err(LabError(message)) => assert!(
            message.contains("307"),
            "say the token endpoint answered a redirect (HTTP 307): {message:?}"
        ),
        Ok(_) => panic!("a 307 from the token endpoint is not a token response"),
    }
}

/// A malicious server (RFC 9700 §4.4's attacker's authorization server)
/// answers 1 MiB: the client stops reading at its limit, with a clear error.
pub fn an_oversized_answer_is_refused(lesson: Lesson) {
    let honest = provider();
    let evil = attacker(&honest, Attack::Oversized);
    let flow = flow_at(&format!("{}/token", evil.base_url()));
    let exchange = lesson.exchange;
    let result = within(20, "the exchange with an oversized answer", move || {
        exchange(&flow, &Secret::new("lab_code_x"), Duration::from_secs(10))
    });
    match result {
        Err(LabError(message)) => assert!(
            message.contains("KiB") || message.contains("large") || message.contains("limit"),
            "say the answer was too large: {message:?}"
        ),
        Ok(_) => panic!(
            "a 1 MiB token response was read and accepted: read at most MAX_ANSWER (64 KiB) of any answer"
        ),
    }
    // The whole program: the attacker's metadata is just as big.
    let base = evil.base_url().to_string();
    let (result, _, browsed) = within(20, "the program against an oversized provider", move || {
        run_program(&lesson, &base, 0, Duration::from_secs(10), |_| ())
    });
    assert!(
        result.is_err() && browsed.is_none(),
        "the program read the 1 MiB metadata and went on: every answer is limited"
    );
}

/// A malicious server's answer that never ends (a byte every 50 ms): the
/// exchange stops at its deadline, and so does the whole program.
pub fn an_endless_answer_stops_at_the_deadline(lesson: Lesson) {
    let honest = provider();
    let evil = attacker(&honest, Attack::Endless);
    let flow = flow_at(&format!("{}/token", evil.base_url()));
    let exchange = lesson.exchange;
    let started = Instant::now();
    let result = within(
        15,
        "the exchange with an endless answer and a 1 s deadline (give the agent timeout_global)",
        move || exchange(&flow, &Secret::new("lab_code_x"), Duration::from_secs(1)),
    );
    assert!(
        result.is_err(),
        "an answer that never ends is no token response"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "with a 1 s deadline the exchange gave up only after {:?}",
        started.elapsed()
    );
    let base = evil.base_url().to_string();
    let (result, _, _) = within(
        15,
        "the program against an endless provider, 1 s deadline",
        move || run_program(&lesson, &base, 0, Duration::from_secs(1), |_| ()),
    );
    assert!(
        result.is_err(),
        "the program must stop on an endless answer"
    );
}

// ---------------------------------------------------------------------------
// The attacks on the whole program

/// RFC 9700 §4.4 and RFC 9207 §2.4: mix-up with two providers. The program is
/// started with the attacker's issuer; the attacker sends the browser on to
/// the honest provider with the program's own request, and alice approves
/// there. A program that does not check `iss` sends the honest code and its
/// verifier to the attacker's token endpoint, and the attacker redeems them
/// for alice's tokens. This one stops with a mix-up error first.
pub fn rfc9700_4_4_mix_up_with_two_providers(lesson: Lesson) {
    let honest = provider();
    let evil = attacker(&honest, Attack::MixUp);
    let base = evil.base_url().to_string();
    let (result, out, browsed) = within(30, "the mix-up", move || {
        run_program(&lesson, &base, 0, Duration::from_secs(10), |url| {
            labkit::defend::simulate_user("alice", &url)
        })
    });
    assert!(browsed.is_some(), "the program opens the browser");
    assert!(
        !evil.got_a_code(),
        "the program sent alice's code and verifier to the attacker's token endpoint, and the attacker redeemed them for the tokens of {:?}: check iss against the issuer the flow was started with (RFC 9207 §2.4)",
        evil.redeemed()
    );
    match result {
        Err(LabError(message)) => assert!(
            message.contains("mix-up"),
            "the program stops with the mix-up error: {message:?}\n{out}"
        ),
        Ok(_) => {
            panic!("the program accepted an answer from another provider than the one it asked")
        }
    }
    let attack_seen = honest
        .events()
        .iter()
        .any(|e| e.actor == mock_provider::ATTACKER);
    assert!(attack_seen, "the inspector shows the attacker's steps");
}

/// RFC 8414 §3.3: the attacker's metadata claims the honest provider's issuer
/// and authorization endpoint, with its own token endpoint: the answer would
/// carry the honest `iss`, so only the metadata check stops it, before the
/// browser is opened.
pub fn rfc8414_3_3_metadata_claiming_another_issuer_is_refused(lesson: Lesson) {
    let honest = provider();
    let evil = attacker(&honest, Attack::FalseIssuer);
    let base = evil.base_url().to_string();
    let (result, _, browsed) = within(30, "the false issuer", move || {
        run_program(&lesson, &base, 0, Duration::from_secs(10), |url| {
            labkit::defend::simulate_user("alice", &url)
        })
    });
    assert!(
        !evil.got_a_code(),
        "the program sent alice's code to the attacker's token endpoint"
    );
    assert!(
        browsed.is_none(),
        "the program opened the browser for a provider that lies about its issuer"
    );
    assert!(
        result.is_err(),
        "the program must stop: the metadata names another issuer"
    );
}

/// RFC 9700 §4.5 and RFC 7636 §4.6: code injection. A thief obtains a code of
/// its own (as bob) for the program's redirect URI and delivers it to the
/// program's listener: without the state it is ignored; with the state (say,
/// leaked) it is traded, and the provider refuses it, because the program's
/// verifier does not match the thief's challenge. The program never becomes bob.
pub fn rfc9700_4_5_an_injected_code_is_useless(lesson: Lesson) {
    let honest = provider();
    let thief = attacker(&honest, Attack::MixUp);
    let issuer = honest.base_url().to_string();
    let bob = honest.resource_owner("bob");
    let (result, out, browsed) = within(30, "the code injection", move || {
        run_program(&lesson, &issuer, 0, Duration::from_secs(10), move |url| {
            let redirect_uri = param(&url, "redirect_uri");
            let code = thief
                .obtain_code(&bob, "lab-public", &redirect_uri)
                .expect("the thief gets a code of its own");
            let without_state = thief.deliver_code(&redirect_uri, &code, None);
            let with_state = thief.deliver_code(&redirect_uri, &code, Some(&param(&url, "state")));
            (without_state, with_state)
        })
    });
    let (without_state, with_state) = browsed.expect("the program opens the browser");
    assert_eq!(
        without_state,
        Some(400),
        "a code delivered without this flow's state is not ours: 400, and keep waiting (RFC 9700 §4.7)"
    );
    assert_eq!(
        with_state,
        Some(200),
        "with our state and iss, the code looks like ours"
    );
    match result {
        Err(LabError(message)) => assert!(
            message.contains("invalid_grant"),
            "the provider refuses the injected code (PKCE, RFC 7636 §4.6): {message:?}\n{out}"
        ),
        Ok(_) => panic!("the program got tokens for the thief's account with an injected code"),
    }
    let refused = honest.events().iter().any(|e| {
        e.request == "POST /token" && e.status == 400 && e.outcome.contains("invalid_grant")
    });
    assert!(refused, "the provider refused the injected code at /token");
}

/// RFC 9700 §4.7 (CSRF) and RFC 9110 §7.2 (DNS rebinding): while the program
/// waits, forged callbacks, other paths and foreign hosts get their refusals
/// and do not end the wait; alice's real answer then completes the flow.
pub fn rfc9700_4_7_forged_callbacks_do_not_end_the_wait(lesson: Lesson) {
    let honest = provider();
    let issuer = honest.base_url().to_string();
    let iss = url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect::<String>();
    let alice = honest.resource_owner("alice");
    let evil = attacker(&honest, Attack::MixUp);
    let (result, out, browsed) = within(30, "forged callbacks", move || {
        run_program(&lesson, &issuer, 0, Duration::from_secs(10), move |url| {
            let redirect_uri = param(&url, "redirect_uri");
            let state = param(&url, "state");
            let port = url::Url::parse(&redirect_uri).unwrap().port().unwrap();
            let forge = |target: String| evil.forge_request(&redirect_uri, &target, None);
            let statuses = [
                forge(format!("/callback?state=forged&code=lab_code_x&iss={iss}")),
                forge(format!("/callback?code=lab_code_x&iss={iss}")),
                forge(format!(
                    "/callback?state={state}&state=forged&code=lab_code_x&iss={iss}"
                )),
                forge("/favicon.ico".into()),
                evil.forge_request(
                    &redirect_uri,
                    &format!("/callback?state={state}&code=lab_code_x&iss={iss}"),
                    Some(&format!("evil.example:{port}")),
                ),
            ];
            let redirect = alice.approve(&url).expect("alice approves");
            let page = get(&redirect.location);
            (statuses, redirect.param("code"), page)
        })
    });
    let (statuses, code, page) = browsed.expect("the program opens the browser");
    assert_eq!(
        statuses,
        [Some(400), Some(400), Some(400), Some(404), Some(421)],
        "wrong state, no state, a repeated state: 400; another path: 404; a foreign Host: 421; none ends the wait"
    );
    let tokens = result.unwrap_or_else(|e| {
        panic!(
            "after the forgeries, alice's answer completes the flow: {}\n{out}",
            e.0
        )
    });
    assert!(tokens.access_token.expose().starts_with("lab_at_"));
    // RFC 9700 §4.2, §4.3: the page the browser shows after the real answer.
    assert_eq!(page.status, 200, "the success page");
    assert_eq!(
        page.header("referrer-policy"),
        Some("no-referrer"),
        "RFC 9700 §4.2.4"
    );
    let code = code.expect("alice's redirect carries a code");
    assert!(
        !page.body.contains(&code),
        "the success page shows the code"
    );
}

/// RFC 9700 §4.3 (history) and the program's output: the code the browser's
/// history keeps is worthless once used, and neither the code, the tokens nor
/// the verifier are ever written whole; the verifier never goes in a URL.
pub fn rfc9700_4_3_nothing_secret_in_history_urls_or_output(lesson: Lesson) {
    let honest = provider();
    let issuer = honest.base_url().to_string();
    let alice = honest.resource_owner("alice");
    let (result, out, browsed) = within(30, "a flow whose output is read", move || {
        run_program(&lesson, &issuer, 0, Duration::from_secs(10), move |url| {
            let redirect = alice.approve(&url).expect("alice approves");
            redirect.follow().expect("the browser comes back");
            (url, redirect)
        })
    });
    let tokens = result.unwrap_or_else(|e| panic!("alice's flow should succeed: {}\n{out}", e.0));
    let (url, redirect) = browsed.expect("the program opens the browser");
    let code = redirect.param("code").expect("a code");
    for (what, secret) in [
        ("the code", code.as_str()),
        ("the access token", tokens.access_token.expose()),
        (
            "the refresh token",
            tokens.refresh_token.as_ref().map_or("", Secret::expose),
        ),
    ] {
        assert!(
            secret.is_empty() || !out.contains(secret),
            "the program wrote {what} whole: show secrets shortened (their Display)\n{out}"
        );
    }
    assert!(
        !url.contains("code_verifier") && url.contains("code_challenge_method=S256"),
        "only the challenge goes through the browser: {url}"
    );
    // From the history, a second use of the code: refused, and it revokes
    // what the first use got (RFC 6749 §4.1.2).
    let replay = ureq::post(&format!("{}/token", honest.base_url()))
        .config()
        .http_status_as_error(false)
        .build()
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", param(&url, "redirect_uri").as_str()),
            ("client_id", "lab-public"),
        ])
        .expect("the token endpoint answers")
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        replay.contains("invalid_grant"),
        "a used code from the history is refused: {replay}"
    );
}

/// RFC 9700 §4.11.2 and RFC 6749 §4.1.2.1: the provider never redirects to a
/// redirect URI it does not know (it would be an open redirector); and the
/// program's request names only its own listener, never an address from input.
pub fn rfc9700_4_11_open_redirection(lesson: Lesson) {
    let honest = provider();
    let foreign = format!(
        "{}/authorize?response_type=code&client_id=lab-public&redirect_uri={}&scope=profile&state=s&code_challenge={}&code_challenge_method=S256",
        honest.base_url(),
        "https%3A%2F%2Fattacker.example%2Fcallback",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let answer = get(&foreign);
    assert!(
        answer.status == 400 && answer.header("location").is_none(),
        "the provider refuses a foreign redirect_uri with a page, never a redirect: {} {:?}",
        answer.status,
        answer.header("location")
    );
    let issuer = honest.base_url().to_string();
    let alice = honest.resource_owner("alice");
    let (result, out, browsed) = within(30, "a flow whose request is read", move || {
        run_program(&lesson, &issuer, 0, Duration::from_secs(10), move |url| {
            alice
                .approve(&url)
                .expect("alice approves")
                .follow()
                .expect("the browser comes back");
            url
        })
    });
    result.unwrap_or_else(|e| panic!("alice's flow should succeed: {}\n{out}", e.0));
    let url = browsed.expect("the program opens the browser");
    let redirect_uri = param(&url, "redirect_uri");
    assert!(
        out.contains(&format!("Listening on {redirect_uri}")),
        "the redirect URI is the listener's own address, {redirect_uri}: {out}"
    );
}

/// RFC 8252 §8.3: port squatting. Another program holding the port the
/// program wants makes it stop with a clear message (it never shares the
/// port); and a squatter that caught a redirect holds a code that is useless
/// without the verifier (RFC 7636 §1).
pub fn rfc8252_8_3_port_squatting(lesson: Lesson) {
    let honest = provider();
    let squatter = attacker(&honest, Attack::MixUp)
        .squat(0)
        .expect("the squatter takes a port");
    let port = squatter.local_addr().unwrap().port();
    let issuer = honest.base_url().to_string();
    let (result, _, browsed) = within(30, "the program on a taken port", move || {
        run_program(&lesson, &issuer, port, Duration::from_secs(10), |_| ())
    });
    match result {
        Err(LabError(message)) => assert!(
            message.contains("in use") && message.contains("--port 0"),
            "say the port is in use and how to pick another: {message:?}"
        ),
        Ok(_) => panic!("port {port} was taken, yet the program ran"),
    }
    assert!(
        browsed.is_none(),
        "the browser must not be sent to a port someone else holds"
    );
    // The squatter's catch: a code issued for a PKCE challenge it cannot answer.
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let url = format!(
        "{}/authorize?response_type=code&client_id=lab-public&redirect_uri={}&scope=profile&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        honest.base_url(),
        url::form_urlencoded::byte_serialize(redirect_uri.as_bytes()).collect::<String>()
    );
    let caught = honest
        .resource_owner("alice")
        .approve(&url)
        .expect("alice approves")
        .param("code")
        .expect("a code");
    let answer = ureq::post(&format!("{}/token", honest.base_url()))
        .config()
        .http_status_as_error(false)
        .build()
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", caught.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", "lab-public"),
            (
                "code_verifier",
                "the-squatter-has-no-verifier-so-it-guesses-one-00000",
            ),
        ])
        .expect("the token endpoint answers")
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        answer.contains("invalid_grant"),
        "the squatter's code without the verifier: {answer}"
    );
}

#[macro_export]
macro_rules! lesson12_suite {
    (@lesson $k:ident) => {
        $crate::lesson12::Lesson {
            begin: $k::begin,
            check_callback: $k::check_callback,
            host_is_ours: $k::host_is_ours,
            page_for: $k::page_for,
            exchange: $k::exchange,
            program: |setup, open, out| {
                $k::run(
                    &$k::Options {
                        issuer: setup.issuer.clone(),
                        client_id: "lab-public".into(),
                        scope: "profile posts:read".into(),
                        port: setup.port,
                        wait: ::std::time::Duration::from_secs(20),
                        answer_deadline: setup.answer_deadline,
                    },
                    open,
                    out,
                )
            },
        }
    };
    ($k:ident) => { $crate::lesson12_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            rfc8414_3_3_the_flow_is_bound_to_the_issuer_it_was_started_with => $crate::lesson12::rfc8414_3_3_the_flow_is_bound_to_the_issuer_it_was_started_with($k::begin);
            rfc9207_2_4_an_answer_from_another_issuer_is_a_mix_up => $crate::lesson12::rfc9207_2_4_an_answer_from_another_issuer_is_a_mix_up($k::check_callback);
            rfc9700_4_7_forged_callbacks_are_recognised => $crate::lesson12::rfc9700_4_7_forged_callbacks_are_recognised($k::check_callback);
            rfc9110_7_2_a_foreign_host_is_refused => $crate::lesson12::rfc9110_7_2_a_foreign_host_is_refused($k::host_is_ours);
            rfc9700_4_2_4_pages_leak_nothing => $crate::lesson12::rfc9700_4_2_4_pages_leak_nothing($k::page_for);
            rfc9700_4_12_a_redirecting_token_endpoint_is_not_followed => $crate::lesson12::rfc9700_4_12_a_redirecting_token_endpoint_is_not_followed($k::exchange);
            an_oversized_answer_is_refused => $crate::lesson12::an_oversized_answer_is_refused($crate::lesson12_suite!(@lesson $k));
            an_endless_answer_stops_at_the_deadline => $crate::lesson12::an_endless_answer_stops_at_the_deadline($crate::lesson12_suite!(@lesson $k));
            rfc9700_4_4_mix_up_with_two_providers => $crate::lesson12::rfc9700_4_4_mix_up_with_two_providers($crate::lesson12_suite!(@lesson $k));
            rfc8414_3_3_metadata_claiming_another_issuer_is_refused => $crate::lesson12::rfc8414_3_3_metadata_claiming_another_issuer_is_refused($crate::lesson12_suite!(@lesson $k));
            rfc9700_4_5_an_injected_code_is_useless => $crate::lesson12::rfc9700_4_5_an_injected_code_is_useless($crate::lesson12_suite!(@lesson $k));
            rfc9700_4_7_forged_callbacks_do_not_end_the_wait => $crate::lesson12::rfc9700_4_7_forged_callbacks_do_not_end_the_wait($crate::lesson12_suite!(@lesson $k));
            rfc9700_4_3_nothing_secret_in_history_urls_or_output => $crate::lesson12::rfc9700_4_3_nothing_secret_in_history_urls_or_output($crate::lesson12_suite!(@lesson $k));
            rfc9700_4_11_open_redirection => $crate::lesson12::rfc9700_4_11_open_redirection($crate::lesson12_suite!(@lesson $k));
            rfc8252_8_3_port_squatting => $crate::lesson12::rfc8252_8_3_port_squatting($crate::lesson12_suite!(@lesson $k));
        }
    };
}
