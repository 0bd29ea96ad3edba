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
    let answer = post_form(
        &format!("{}/token", p.base_url()),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", "lab-public"),
            ("code_verifier", VERIFIER),
        ],
    );
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
