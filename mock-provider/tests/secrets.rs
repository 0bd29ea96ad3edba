//! Secrets and the trace: secrets never appear whole in the trace, the events,
//! pages or Debug output; every protocol step is recorded.

mod common;

use common::*;
use mock_provider::{Config, MockProvider, TraceOutput};

#[test]
fn no_secret_appears_whole_in_events_trace_lines_or_pages() {
    let p = MockProvider::start(Config {
        trace: TraceOutput::Quiet,
        ..Config::default()
    })
    .unwrap();
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&p, "lab-public", &pkce);
    let answer = exchange_public(&p, &code);
    let json = answer.json();
    let access = json["access_token"].as_str().unwrap().to_string();
    let refresh = json["refresh_token"].as_str().unwrap().to_string();
    get(&format!("{}/api/posts", p.base_url()), Some(&access));
    post_form(
        &format!("{}/token", p.base_url()),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "lab-public"),
        ],
    );
    // A wrong secret, and a replay: errors must not echo secrets either.
    let wrong_secret = "my-real-looking-secret-value";
    post_form(
        &format!("{}/token", p.base_url()),
        Some(("lab-client", wrong_secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    );
    let (access2, refresh2) = tokens(&p);
    post_form(
        &format!("{}/revoke", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("token", &refresh2)],
    );

    let secrets = [
        code.as_str(),
        access.as_str(),
        refresh.as_str(),
        access2.as_str(),
        refresh2.as_str(),
        VERIFIER,
        "lab-secret",
        wrong_secret,
        "wonderland",
    ];
    let events = get(&format!("{}/_lab/events", p.base_url()), None).body;
    let lines: String = p.events().iter().map(|e| e.line() + "\n").collect();
    let page = get(&format!("{}/", p.base_url()), None).body;
    for secret in secrets {
        assert!(!events.contains(secret), "/_lab/events shows {secret}");
        assert!(
            !lines.contains(secret),
            "a trace line shows {secret}:\n{lines}"
        );
        assert!(!page.contains(secret), "the front page shows {secret}");
    }
    // Shortened forms are there, so the trace is still useful.
    assert!(
        lines.contains(&code[..13]),
        "the code is shown shortened:\n{lines}"
    );
    assert!(lines.contains(&access[..11]));
}

#[test]
fn every_protocol_step_is_one_event_in_one_flow() {
    let p = start();
    let url = authorize_url(p.base_url(), "lab-client", &[]);
    let redirect = p.resource_owner("alice").approve(&url).unwrap();
    let code = redirect.param("code").unwrap();
    let access = exchange(&p, &code).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    get(&format!("{}/api/me", p.base_url()), Some(&access));
    let events = p.events();
    let steps: Vec<_> = events
        .iter()
        .map(|e| (e.request.as_str(), e.status))
        .collect();
    assert_eq!(
        steps,
        [
            ("GET /authorize", 200),
            ("POST /authorize", 303),
            ("POST /token", 200),
            ("GET /api/me", 200)
        ]
    );
    let flow = events[0].flow.expect("a flow number");
    assert!(
        events.iter().all(|e| e.flow == Some(flow)),
        "one flow from /authorize to the API: {events:#?}"
    );
    assert_eq!(events[2].actor, "lab-client");
    assert!(events[3].outcome.contains("alice"));
    // `after` returns only what is new.
    let newer = get(
        &format!("{}/_lab/events?after={}", p.base_url(), events[2].seq),
        None,
    )
    .json();
    assert_eq!(newer["events"].as_array().unwrap().len(), 1);
}

#[test]
fn debug_output_redacts_secrets() {
    let config = Config::default();
    let shown = format!("{:?} {:?}", config.clients, config.users);
    assert!(
        !shown.contains("lab-secret")
            && !shown.contains("wonderland")
            && !shown.contains("builder"),
        "{shown}"
    );
    let owner = mock_provider::ResourceOwner::new("alice", "wonderland");
    assert!(!format!("{owner:?}").contains("wonderland"));
    let redirect = mock_provider::Redirect {
        location: "http://127.0.0.1:1/callback?code=lab_code_SECRETSECRETSECRET&state=x".into(),
    };
    assert!(!format!("{redirect:?}").contains("SECRETSECRETSECRET"));
}

#[test]
fn clients_cannot_forge_trace_lines_or_fill_memory_through_it() {
    let p = start();
    // A newline and an escape sequence in values a client controls.
    post_form(
        &format!("{}/token", p.base_url()),
        None,
        &[
            ("client_id", "lab-public\u{1b}[31m"),
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("scope", "profile\nFAKE ⇒ 200 tokens for alice"),
        ],
    );
    let huge = "A".repeat(7000);
    get(
        &format!(
            "{}/authorize?client_id={huge}&redirect_uri={huge}",
            p.base_url()
        ),
        None,
    );
    for event in p.events() {
        let line = event.line();
        assert!(
            !line.contains('\n') && !line.contains('\u{1b}'),
            "control characters are escaped: {line:?}"
        );
        assert!(
            line.len() < 2000,
            "long values are cut: {} bytes",
            line.len()
        );
    }
    let all = serde_json::to_string(&p.events()).unwrap();
    assert!(
        all.len() < 4000,
        "the events keep a few hundred characters per value, got {} bytes",
        all.len()
    );
}

/// The hidden `request_id` of a consent page.
fn request_id(page: &str) -> String {
    let at = page.find("name=\"request_id\"").expect("a consent form");
    let value = &page[at..];
    let start = value.find("value=\"").unwrap() + 7;
    value[start..start + value[start..].find('"').unwrap()].to_string()
}

// A password typed into the username box is a secret like any other: an
// unknown username is shortened in the trace and the events, and the login
// page shown again does not echo it (the secrets rule of ARCHITECTURE.md).
#[test]
fn an_unknown_username_is_shortened_like_a_secret() {
    let mut config = Config::default();
    config
        .add_from_toml(
            r#"
[[user]]
username = "carol"
password = "carol-private-pass-123"
name = "Carol"
email = "carol@example.test"
posts = 3
"#,
        )
        .unwrap();
    let p = MockProvider::start(config).unwrap();
    let typed = "carol-private-pass-123";
    let consent = get(&authorize_url(p.base_url(), "lab-client", &[]), None);
    let again = post_form(
        &format!("{}/authorize", p.base_url()),
        None,
        &[
            ("request_id", &request_id(&consent.body)),
            ("username", typed),
            ("password", "carol"),
            ("decision", "approve"),
        ],
    );
    assert!(
        again.body.contains("Wrong username or password"),
        "{}",
        again.body
    );
    assert!(!again.body.contains(typed), "the page does not echo it");
    // The same on the device page.
    let device = post_form(
        &format!("{}/device_authorization", p.base_url()),
        None,
        &[("client_id", "lab-public")],
    )
    .json();
    let device_page = post_form(
        &format!("{}/device", p.base_url()),
        None,
        &[
            ("user_code", device["user_code"].as_str().unwrap()),
            ("username", typed),
            ("password", "carol"),
            ("decision", "approve"),
        ],
    );
    assert!(
        device_page.body.contains("Wrong username"),
        "{}",
        device_page.body
    );
    assert!(!device_page.body.contains(typed));
    let events = serde_json::to_string(&p.events()).unwrap();
    assert!(!events.contains(typed), "shortened in the events: {events}");
    assert!(events.contains("car…"), "but still there, shortened");
    let lines: String = p.events().iter().map(|e| e.line()).collect();
    assert!(!lines.contains(typed));
    // A registered username is shown whole.
    let known = post_form(
        &format!("{}/authorize", p.base_url()),
        None,
        &[
            ("request_id", &request_id(&consent.body)),
            ("username", "carol"),
            ("password", "wrong"),
            ("decision", "approve"),
        ],
    );
    assert!(known.body.contains("value=\"carol\""), "{}", known.body);
}
