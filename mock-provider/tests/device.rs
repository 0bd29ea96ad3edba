//! The device authorization grant (RFC 8628 §3.1–3.5, §5.1), from outside over
//! HTTP. Time moves only by `ManualClock::advance`.

mod common;

use std::time::Duration;

use common::*;
use mock_provider::{
    Config, DEVICE_GRANT_TYPE, MAX_WRONG_USER_CODES_PER_SLICE, ManualClock, MockProvider,
    OwnerError, ResourceOwner,
};
use serde_json::Value;

const CONFIDENTIAL: Option<(&str, &str)> = Some(("lab-client", "lab-secret"));

fn with_clock() -> (MockProvider, ManualClock) {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    (p, clock)
}

/// `POST /device_authorization` as lab-client, with these form fields.
fn ask(p: &MockProvider, basic: Option<(&str, &str)>, fields: &[(&str, &str)]) -> Answer {
    post_form(
        &format!("{}/device_authorization", p.base_url()),
        basic,
        fields,
    )
}

/// A device authorization for lab-client: the whole answer.
fn started(p: &MockProvider) -> Value {
    let answer = ask(p, CONFIDENTIAL, &[("scope", "profile posts:read")]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn field(json: &Value, name: &str) -> String {
    json[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {json}"))
        .to_string()
}

fn poll_as(p: &MockProvider, basic: Option<(&str, &str)>, device_code: &str) -> Answer {
    post_form(
        &format!("{}/token", p.base_url()),
        basic,
        &[
            ("grant_type", DEVICE_GRANT_TYPE),
            ("device_code", device_code),
        ],
    )
}

fn poll(p: &MockProvider, device_code: &str) -> Answer {
    poll_as(p, CONFIDENTIAL, device_code)
}

fn alice(p: &MockProvider) -> ResourceOwner {
    p.resource_owner("alice")
}

const INTERVAL: Duration = Duration::from_secs(5);

#[test]
fn rfc8628_3_2_the_answer_has_both_codes_the_page_and_the_timing() {
    let p = start();
    let answer = ask(&p, CONFIDENTIAL, &[("scope", "profile")]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("pragma"), Some("no-cache"));
    let json = answer.json();
    let device_code = field(&json, "device_code");
    assert!(device_code.starts_with("lab_dc_"), "{device_code}");
    assert_eq!(device_code.len(), "lab_dc_".len() + 43, "256 random bits");
    let user_code = field(&json, "user_code");
    // §6.1: short, no vowels or digits, shown in two halves.
    let (a, b) = user_code.split_once('-').expect("XXXX-XXXX");
    for half in [a, b] {
        assert_eq!(half.len(), 4, "{user_code}");
        assert!(
            half.chars().all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
            "{user_code}"
        );
    }
    let page = format!("{}/device", p.base_url());
    assert_eq!(field(&json, "verification_uri"), page);
    assert_eq!(
        field(&json, "verification_uri_complete"),
        format!("{page}?user_code={user_code}")
    );
    assert_eq!(json["expires_in"], 600);
    assert_eq!(json["interval"], 5);
    let other = started(&p);
    assert_ne!(field(&other, "device_code"), device_code);
    assert_ne!(field(&other, "user_code"), user_code);
}

#[test]
fn rfc8628_3_1_the_client_authenticates_as_at_the_token_endpoint() {
    let p = start();
    let public = ask(&p, None, &[("client_id", "lab-public")]);
    assert_eq!(
        public.status, 200,
        "a public client names itself: {}",
        public.body
    );
    let in_body = ask(
        &p,
        None,
        &[("client_id", "lab-client"), ("client_secret", "lab-secret")],
    );
    assert_eq!(in_body.status, 200, "{}", in_body.body);
    for (basic, fields, what) in [
        (None, vec![("client_id", "lab-client")], "no secret"),
        (Some(("lab-client", "guess")), vec![], "a wrong secret"),
        (None, vec![("client_id", "nobody")], "an unknown client"),
        (None, vec![], "no client at all"),
    ] {
        let answer = ask(&p, basic, &fields);
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (401, "invalid_client"),
            "{what}: {}",
            answer.body
        );
        assert!(answer.header("www-authenticate").is_some(), "{what}");
    }
}

#[test]
fn rfc8628_3_1_the_scope_is_checked_as_at_authorize() {
    let p = start();
    let unknown = ask(&p, CONFIDENTIAL, &[("scope", "profile admin")]);
    assert_eq!(
        (unknown.status, unknown.error().as_str()),
        (400, "invalid_scope")
    );
    // No scope: the documented default, profile.
    let json = ask(&p, CONFIDENTIAL, &[]).json();
    alice(&p)
        .approve_device(
            &field(&json, "verification_uri"),
            &field(&json, "user_code"),
        )
        .unwrap();
    let tokens = poll(&p, &field(&json, "device_code")).json();
    assert_eq!(tokens["scope"], "profile");
}

#[test]
fn rfc8628_3_5_authorization_pending_until_the_person_decides() {
    let (p, clock) = with_clock();
    let json = started(&p);
    let device_code = field(&json, "device_code");
    for _ in 0..3 {
        let answer = poll(&p, &device_code);
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (400, "authorization_pending"),
            "{}",
            answer.body
        );
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        clock.advance(INTERVAL);
    }
    // Opening the page and entering the code is not yet a decision.
    let page = post_form(
        &field(&json, "verification_uri"),
        None,
        &[("user_code", &field(&json, "user_code"))],
    );
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"password\""), "{}", page.body);
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
}

#[test]
fn rfc8628_3_5_polling_too_fast_is_slow_down_and_the_interval_grows_by_5_s() {
    let (p, clock) = with_clock();
    let device_code = field(&started(&p), "device_code");
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
    // Two polls at the same instant.
    let fast = poll(&p, &device_code);
    assert_eq!((fast.status, fast.error().as_str()), (400, "slow_down"));
    // The interval is now 10 s: 5 s later is still too soon…
    clock.advance(INTERVAL);
    assert_eq!(
        poll(&p, &device_code).error(),
        "slow_down",
        "after a slow_down the interval is 10 s, not 5 s"
    );
    // …and it grew again, to 15 s: 10 s is too soon, 15 s is fine.
    clock.advance(Duration::from_secs(10));
    assert_eq!(poll(&p, &device_code).error(), "slow_down");
    clock.advance(Duration::from_secs(20));
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
    clock.advance(Duration::from_secs(20));
    assert_eq!(
        poll(&p, &device_code).error(),
        "authorization_pending",
        "polling at the grown interval is fine"
    );
}

#[test]
fn rfc8628_3_5_slow_down_then_waiting_interval_plus_5_s_is_pending_again() {
    let (p, clock) = with_clock();
    let device_code = field(&started(&p), "device_code");
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
    let fast = poll(&p, &device_code);
    assert_eq!(fast.error(), "slow_down");
    assert!(
        fast.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("10 s"),
        "{}",
        fast.body
    );
    clock.advance(INTERVAL + Duration::from_secs(5));
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
}

/// §3.3: the person logs in, then decides; knowing the user code (it is short,
/// and shown on a screen) is not enough to deny someone else's device.
#[test]
fn rfc8628_3_3_denying_needs_a_login_too() {
    let (p, clock) = with_clock();
    let json = started(&p);
    let page = field(&json, "verification_uri");
    let user_code = field(&json, "user_code");
    for password in ["", "not-the-password"] {
        let refused = post_form(
            &page,
            None,
            &[
                ("user_code", user_code.as_str()),
                ("username", "alice"),
                ("password", password),
                ("decision", "deny"),
            ],
        );
        assert!(
            refused.body.contains("Wrong username or password"),
            "{}",
            refused.body
        );
    }
    clock.advance(INTERVAL);
    assert_eq!(
        poll(&p, &field(&json, "device_code")).error(),
        "authorization_pending",
        "the device code is still waiting for its person"
    );
}

#[test]
fn rfc8628_3_5_access_denied_after_the_person_denies() {
    let (p, clock) = with_clock();
    let json = started(&p);
    alice(&p)
        .deny_device(
            &field(&json, "verification_uri"),
            &field(&json, "user_code"),
        )
        .unwrap();
    let answer = poll(&p, &field(&json, "device_code"));
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (400, "access_denied")
    );
    clock.advance(INTERVAL);
    assert_eq!(
        poll(&p, &field(&json, "device_code")).error(),
        "access_denied"
    );
    // A decided code cannot be entered again.
    let again = alice(&p).approve_device(
        &field(&json, "verification_uri"),
        &field(&json, "user_code"),
    );
    assert!(
        matches!(again, Err(OwnerError::Device { status: 400, .. })),
        "{again:?}"
    );
}

#[test]
fn rfc8628_3_5_expired_token_after_expires_in() {
    let (p, clock) = with_clock();
    let json = started(&p);
    let device_code = field(&json, "device_code");
    clock.advance(Duration::from_secs(599));
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
    clock.advance(Duration::from_secs(1));
    let answer = poll(&p, &device_code);
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (400, "expired_token"),
        "{}",
        answer.body
    );
    // The person is too late as well.
    let late = alice(&p).approve_device(
        &field(&json, "verification_uri"),
        &field(&json, "user_code"),
    );
    assert!(
        matches!(&late, Err(OwnerError::Device { status: 400, message }) if message.contains("not valid")),
        "{late:?}"
    );
    // An approved code the device never collected expires too.
    let json = started(&p);
    alice(&p)
        .approve_device(
            &field(&json, "verification_uri"),
            &field(&json, "user_code"),
        )
        .unwrap();
    clock.advance(Duration::from_secs(600));
    assert_eq!(
        poll(&p, &field(&json, "device_code")).error(),
        "expired_token"
    );
}

#[test]
fn rfc8628_3_2_device_ttl_sets_expires_in() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config {
        device_ttl: Duration::from_secs(90),
        ..Config::default().with_clock(clock.clone())
    })
    .unwrap();
    let json = started(&p);
    assert_eq!(json["expires_in"], 90);
    clock.advance(Duration::from_secs(90));
    assert_eq!(
        poll(&p, &field(&json, "device_code")).error(),
        "expired_token"
    );
}

#[test]
fn rfc8628_3_5_tokens_once_then_the_device_code_is_spent() {
    let (p, clock) = with_clock();
    let json = started(&p);
    let device_code = field(&json, "device_code");
    assert_eq!(poll(&p, &device_code).error(), "authorization_pending");
    alice(&p)
        .approve_device(
            &field(&json, "verification_uri"),
            &field(&json, "user_code"),
        )
        .unwrap();
    clock.advance(INTERVAL);
    let answer = poll(&p, &device_code);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let tokens = answer.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "profile posts:read");
    assert!(field(&tokens, "refresh_token").starts_with("lab_rt_"));
    let me = get(
        &format!("{}/api/me", p.base_url()),
        Some(&field(&tokens, "access_token")),
    );
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "alice");
    clock.advance(INTERVAL);
    let again = poll(&p, &device_code);
    assert_eq!(
        (again.status, again.error().as_str()),
        (400, "invalid_grant"),
        "a device code gives tokens once: {}",
        again.body
    );
}

#[test]
fn rfc8628_3_4_a_device_code_is_bound_to_its_client() {
    let (p, clock) = with_clock();
    let public = ask(&p, None, &[("client_id", "lab-public")]).json();
    alice(&p)
        .approve_device(
            &field(&public, "verification_uri"),
            &field(&public, "user_code"),
        )
        .unwrap();
    let device_code = field(&public, "device_code");
    let stolen = poll(&p, &device_code);
    assert_eq!(
        (stolen.status, stolen.error().as_str()),
        (400, "invalid_grant")
    );
    clock.advance(INTERVAL);
    let own = post_form(
        &format!("{}/token", p.base_url()),
        None,
        &[
            ("grant_type", DEVICE_GRANT_TYPE),
            ("device_code", &device_code),
            ("client_id", "lab-public"),
        ],
    );
    assert_eq!(own.status, 200, "{}", own.body);
}

#[test]
fn rfc8628_6_1_user_codes_are_read_without_regard_to_case_dashes_or_spaces() {
    let p = start();
    let variants: [fn(&str) -> String; 4] = [
        |c| c.to_lowercase(),
        |c| c.replace('-', ""),
        |c| c.replace('-', " ").to_lowercase(),
        |c| format!(" {} ", c.replace('-', "- ")),
    ];
    for variant in variants {
        let json = started(&p);
        let typed = variant(&field(&json, "user_code"));
        alice(&p)
            .approve_device(&field(&json, "verification_uri"), &typed)
            .unwrap_or_else(|e| panic!("{typed:?}: {e}"));
        assert_eq!(
            poll(&p, &field(&json, "device_code")).status,
            200,
            "{typed:?}"
        );
    }
}

#[test]
fn rfc8628_3_3_the_page_says_when_a_code_is_unknown_and_a_password_wrong() {
    let (p, _clock) = with_clock();
    let json = started(&p);
    let page = field(&json, "verification_uri");
    let unknown = alice(&p).approve_device(&page, "BCDF-GHJK");
    assert!(
        matches!(&unknown, Err(OwnerError::Device { status: 400, message }) if message.contains("not valid")),
        "{unknown:?}"
    );
    let wrong =
        ResourceOwner::new("alice", "guess").approve_device(&page, &field(&json, "user_code"));
    assert!(
        matches!(&wrong, Err(OwnerError::Device { status: 200, message }) if message.contains("Wrong username or password")),
        "{wrong:?}"
    );
    assert_eq!(
        poll(&p, &field(&json, "device_code")).error(),
        "authorization_pending",
        "a wrong password decides nothing"
    );
    // verification_uri_complete fills the field in; the person still presses Continue.
    let complete = get(&field(&json, "verification_uri_complete"), None);
    assert_eq!(complete.status, 200);
    assert!(
        complete
            .body
            .contains(&format!("value=\"{}\"", field(&json, "user_code"))),
        "{}",
        complete.body
    );
    assert!(!complete.body.contains("id=\"password\""));
    // The consent page shows whom and what for, and the code to compare.
    let consent = post_form(&page, None, &[("user_code", &field(&json, "user_code"))]);
    for text in [
        "Lab Client (confidential)",
        "Read your private posts",
        "wonderland",
        &field(&json, "user_code"),
        "button type=\"submit\" name=\"decision\" value=\"approve\"",
        "button type=\"submit\" name=\"decision\" value=\"deny\"",
    ] {
        assert!(
            consent.body.contains(text),
            "no {text:?} in {}",
            consent.body
        );
    }
}

#[test]
fn rfc8628_5_1_guessing_user_codes_is_bounded() {
    let (p, clock) = with_clock();
    let json = started(&p);
    let page = field(&json, "verification_uri");
    // The same wrong code again and again fills its slice of the code space.
    for _ in 0..MAX_WRONG_USER_CODES_PER_SLICE {
        let wrong = post_form(&page, None, &[("user_code", "BCDF-GHJK")]);
        assert_eq!(wrong.status, 400);
    }
    let blocked = post_form(&page, None, &[("user_code", "BCDF-GHJK")]);
    assert_eq!(
        blocked.status, 429,
        "past the slice's budget: refused unchecked"
    );
    assert_eq!(blocked.header("retry-after"), Some("60"));
    clock.advance(Duration::from_secs(60));
    let again = post_form(&page, None, &[("user_code", "BCDF-GHJK")]);
    assert_eq!(again.status, 400, "a minute later it is checked again");
}

/// RFC 8628 §5.1, on a provider a class shares: everyone arrives from
/// 127.0.0.1, so a flood of wrong codes must not lock out the right one.
#[test]
fn rfc8628_5_1_a_flood_of_wrong_codes_does_not_lock_out_another_persons_code() {
    let p = start();
    let json = started(&p);
    let page = field(&json, "verification_uri");
    let right = field(&json, "user_code").replace('-', "");
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut sent = 0;
    for n in 0..301usize {
        // n in base 20: 301 different codes.
        let guess: String = (0..8u32)
            .map(|i| LETTERS[(n / 20usize.pow(i)) % 20] as char)
            .collect();
        if guess == right {
            continue;
        }
        let wrong = post_form(&page, None, &[("user_code", &guess)]);
        assert_ne!(wrong.status, 200, "{guess}");
        sent += 1;
    }
    assert!(sent >= 300);
    alice(&p)
        .approve_device(&page, &field(&json, "user_code"))
        .expect("the right code still works after 300 wrong ones");
    assert_eq!(poll(&p, &field(&json, "device_code")).status, 200);
}

#[test]
fn rfc8628_4_metadata_names_the_endpoint_and_the_grant_type() {
    let p = start();
    let json = get(
        &format!("{}/.well-known/oauth-authorization-server", p.base_url()),
        None,
    )
    .json();
    assert_eq!(
        json["device_authorization_endpoint"],
        format!("{}/device_authorization", p.base_url())
    );
    let grants: Vec<&str> = json["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(grants.contains(&DEVICE_GRANT_TYPE), "{grants:?}");
}

#[test]
fn no_device_code_or_token_appears_whole_in_the_trace_pages_or_inspector() {
    let (p, clock) = with_clock();
    let json = started(&p);
    let device_code = field(&json, "device_code");
    let user_code = field(&json, "user_code");
    let page = field(&json, "verification_uri");
    poll(&p, &device_code);
    poll(&p, &device_code);
    let mut pages = vec![
        get(&field(&json, "verification_uri_complete"), None).body,
        post_form(&page, None, &[("user_code", &user_code)]).body,
    ];
    alice(&p).approve_device(&page, &user_code).unwrap();
    clock.advance(Duration::from_secs(10));
    let tokens = poll(&p, &device_code).json();
    let access = field(&tokens, "access_token");
    get(&format!("{}/api/me", p.base_url()), Some(&access));
    let inspector = get(&format!("{}/_lab", p.base_url()), None).body;
    let events = get(&format!("{}/_lab/events", p.base_url()), None).body;
    let lines: String = p.events().iter().map(|e| e.line() + "\n").collect();
    pages.push(inspector.clone());
    for (what, text) in [("events", &events), ("trace", &lines)]
        .into_iter()
        .chain(pages.iter().map(|t| ("page", t)))
    {
        for secret in [&device_code, &access, &field(&tokens, "refresh_token")] {
            assert!(!text.contains(secret.as_str()), "{what} shows {secret}");
        }
    }
    assert!(
        lines.contains(&device_code[..11]),
        "shortened, still told apart: {lines}"
    );
    // The user code is the person's to type: the trace shows two characters of it.
    assert!(!lines.contains(&user_code), "{lines}");
    assert!(!lines.contains(&user_code[..4]), "{lines}");
    // The inspector tells the device flow's stages.
    for text in [
        "1 Device authorization",
        "3 The device polls",
        "alice allowed it",
        "too fast (slow_down)",
        "Tokens issued to the device; 1 API call answered",
    ] {
        assert!(inspector.contains(text), "no {text:?} on /_lab");
    }
}

#[test]
fn malformed_device_requests_get_a_4xx_with_a_reason() {
    let p = start();
    let base = p.base_url();
    let json_body = post_raw(
        &format!("{base}/device_authorization"),
        CONFIDENTIAL,
        "application/json",
        "{\"scope\":\"profile\"}",
    );
    assert_eq!(
        (json_body.status, json_body.error().as_str()),
        (400, "invalid_request")
    );
    let twice = ask(
        &p,
        CONFIDENTIAL,
        &[("scope", "profile"), ("scope", "posts:read")],
    );
    assert_eq!(
        (twice.status, twice.error().as_str()),
        (400, "invalid_request")
    );
    let get_it = get(&format!("{base}/device_authorization"), None);
    assert_eq!(get_it.status, 405);
    assert_eq!(get_it.header("allow"), Some("POST"));
    let put = post_raw(&format!("{base}/device"), None, "text/plain", "user_code=x");
    assert_eq!(put.status, 400);
    let no_code = post_form(
        &format!("{base}/token"),
        CONFIDENTIAL,
        &[("grant_type", DEVICE_GRANT_TYPE)],
    );
    assert_eq!(
        (no_code.status, no_code.error().as_str()),
        (400, "invalid_request")
    );
    let unknown = poll(&p, "lab_dc_never-issued");
    assert_eq!(
        (unknown.status, unknown.error().as_str()),
        (400, "invalid_grant")
    );
    // Not ASCII: the trace cuts it by characters, not bytes.
    let typed = post_form(&format!("{base}/device"), None, &[("user_code", "aéé-ü")]);
    assert_eq!(typed.status, 400);
    assert_eq!(
        get(&format!("{base}/device?user_code=a%C3%A9%C3%A9"), None).status,
        200
    );
    let bad_query = get(&format!("{base}/device?user_code=%zz"), None);
    assert_eq!(bad_query.status, 400);
    assert!(bad_query.body.contains("role=\"alert\""));
    let bad_form = post_raw(
        &format!("{base}/device"),
        None,
        "application/x-www-form-urlencoded",
        "user_code=%FF%FE",
    );
    assert_eq!(bad_form.status, 400);
    let json = started(&p);
    let bogus = post_form(
        &field(&json, "verification_uri"),
        None,
        &[
            ("user_code", &field(&json, "user_code")),
            ("decision", "maybe"),
        ],
    );
    assert_eq!(bogus.status, 400);
    // What a person types comes back as text, never as markup, under the same policy.
    let typed = get(
        &format!("{base}/device?user_code=%3Cscript%3Ex%3C%2Fscript%3E"),
        None,
    );
    assert_eq!(typed.status, 200);
    assert!(!typed.body.contains("<script>"), "{}", typed.body);
    assert!(typed.body.contains("&lt;script&gt;"));
    assert!(
        typed
            .header("content-security-policy")
            .is_some_and(|c| c.starts_with("default-src 'none'"))
    );
}
