//! The inspector, `GET /_lab` (the mock provider appendix): every flow as a card
//! of steps, no secret whole, nothing run or loaded but its own script and style.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use mock_provider::{Config, ManualClock, MockProvider, TraceOutput};
use sha2::{Digest, Sha256};

fn inspector(p: &MockProvider) -> Answer {
    let answer = get(&format!("{}/_lab", p.base_url()), None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

/// The text between `open` and the next `close`, after `from`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let end = text[start..].find(close).unwrap() + start;
    &text[start..end]
}

/// The HTML of flow `n`'s card.
fn card(page: &str, n: u64) -> &str {
    between(page, &format!("id=\"flow-{n}\""), "</article>")
}

#[test]
fn no_secret_appears_whole_on_the_inspector() {
    let p = MockProvider::start(Config {
        trace: TraceOutput::Quiet,
        ..Config::default()
    })
    .unwrap();
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let public_code = code_for(&p, "lab-public", &pkce);
    let answer = exchange_public(&p, &public_code);
    let json = answer.json();
    let access = json["access_token"].as_str().unwrap().to_string();
    let refresh = json["refresh_token"].as_str().unwrap().to_string();
    get(&format!("{}/api/posts", p.base_url()), Some(&access));
    let rotated = post_form(
        &format!("{}/token", p.base_url()),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "lab-public"),
        ],
    )
    .json();
    let access2 = rotated["access_token"].as_str().unwrap().to_string();
    let refresh2 = rotated["refresh_token"].as_str().unwrap().to_string();
    // A wrong secret, a replayed code, a revocation: errors must not echo secrets either.
    let code = code_for(&p, "lab-client", &[]);
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
    assert_eq!(exchange(&p, &code).status, 200);
    assert_eq!(exchange(&p, &code).status, 400, "a replay is refused");
    let (access3, refresh3) = tokens(&p);
    post_form(
        &format!("{}/revoke", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("token", &refresh3)],
    );

    let page = inspector(&p).body;
    for secret in [
        public_code.as_str(),
        code.as_str(),
        access.as_str(),
        refresh.as_str(),
        access2.as_str(),
        refresh2.as_str(),
        access3.as_str(),
        refresh3.as_str(),
        VERIFIER,
        "lab-secret",
        wrong_secret,
        "wonderland",
    ] {
        assert!(
            !page.contains(secret),
            "the inspector shows {} whole",
            mock_provider::shorten(secret)
        );
    }
    // The shortened forms are there: the page is about these very values.
    for shown in [&code, &public_code, &access, &refresh2] {
        let short = mock_provider::shorten(shown);
        assert!(page.contains(&short), "the inspector lacks {short}");
    }
}

#[test]
fn each_flow_is_a_card_from_authorize_to_the_api() {
    let p = start();
    let (access, _) = tokens(&p);
    get(&format!("{}/api/me", p.base_url()), Some(&access));
    let denied = p
        .resource_owner("alice")
        .deny(&authorize_url(p.base_url(), "lab-client", &[]))
        .unwrap();
    assert_eq!(denied.param("error").as_deref(), Some("access_denied"));
    // Shown and never answered.
    get(
        &authorize_url(
            p.base_url(),
            "lab-public",
            &[
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        ),
        None,
    );

    let page = inspector(&p).body;
    let done = card(&page, 1);
    for shown in [
        "Lab Client (confidential)",
        "as <b>alice</b>",
        "GET /authorize",
        "POST /authorize",
        "application&#39;s listener",
        "POST /token",
        "GET /api/me",
        "Tokens issued; 1 API call answered",
    ] {
        assert!(done.contains(shown), "flow 1 lacks {shown}:\n{done}");
    }
    // In the order they happened.
    let order: Vec<usize> = [
        "GET /authorize",
        "POST /authorize",
        "POST /token",
        "GET /api/me",
    ]
    .iter()
    .map(|r| done.find(r).unwrap())
    .collect();
    assert!(order.is_sorted(), "steps out of order: {order:?}");
    let refused = card(&page, 2);
    assert!(
        refused.contains("Denied: the application was told access_denied"),
        "{refused}"
    );
    let waiting = card(&page, 3);
    assert!(
        waiting.contains("Waiting for the person to log in and decide")
            && waiting.contains("Lab Public Client (PKCE)"),
        "{waiting}"
    );
    // Newest first.
    assert!(page.find("id=\"flow-3\"") < page.find("id=\"flow-1\""));
}

#[test]
fn the_redirect_back_to_the_application_is_recorded_with_its_parameters() {
    let p = start();
    let code = code_for(&p, "lab-client", &[]);
    let events = get(&format!("{}/_lab/events", p.base_url()), None).json();
    let consent = &events["events"][1];
    assert_eq!(consent["request"], "POST /authorize");
    assert_eq!(consent["redirect_to"], CALLBACK);
    assert_eq!(consent["user"], "alice");
    let params: Vec<(String, String)> =
        serde_json::from_value(consent["redirect_params"].clone()).unwrap();
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["code", "state", "iss"]);
    assert_eq!(params[0].1, mock_provider::shorten(&code));
    assert_eq!(params[2].1, p.base_url());
    // Steps that redirect nowhere carry no such fields.
    assert!(events["events"][0].get("redirect_to").is_none());
}

#[test]
fn what_clients_send_is_shown_as_text_never_as_markup() {
    let p = start();
    let evil =
        "http://127.0.0.1:1/callback\"><img src=x onerror=alert(1)><script>alert(2)</script>";
    get(
        &authorize_url(p.base_url(), "lab-client", &[("redirect_uri", evil)]),
        None,
    );
    get(
        &authorize_url(p.base_url(), "<b>bold</b>", &[("scope", "<i>x</i>")]),
        None,
    );
    let page = inspector(&p).body;
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "shown, escaped"
    );
    assert!(!page.contains("<img") && !page.contains("<b>bold") && !page.contains("<i>x"));
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
}

#[test]
fn only_the_page_s_own_script_and_style_may_run_and_nothing_loads_from_elsewhere() {
    let p = start();
    tokens(&p);
    let answer = inspector(&p);
    let policy = answer.header("content-security-policy").unwrap();
    let hash = |text: &str| {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text))
        )
    };
    let script = between(&answer.body, "<script>", "</script>");
    let style = between(&answer.body, "<style>", "</style>");
    assert!(
        policy.contains(&format!("script-src {}", hash(script))),
        "the script is allowed by its hash, or a browser would not run it: {policy}"
    );
    assert!(
        policy.contains(&format!("style-src {}", hash(style))),
        "{policy}"
    );
    for part in [
        "default-src 'none'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(part), "{policy} lacks {part}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    // The live update asks this provider, and nothing is fetched from anywhere else.
    assert!(script.contains("/_lab/events?after="));
    for outside in ["src=\"http", "href=\"http", "@import", "url(", "//cdn"] {
        assert!(!answer.body.contains(outside), "the page loads {outside}…");
    }
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[test]
fn reading_the_inspector_adds_nothing_to_the_trace() {
    let p = start();
    tokens(&p);
    let before = p.events().len();
    inspector(&p);
    get(&format!("{}/_lab/events", p.base_url()), None);
    assert_eq!(p.events().len(), before);
    let head = agent()
        .head(&format!("{}/_lab", p.base_url()))
        .call()
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    let post = post_form(&format!("{}/_lab", p.base_url()), None, &[]);
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, HEAD"))
    );
}

#[test]
fn an_empty_provider_says_how_to_start_a_flow() {
    let p = start();
    let page = inspector(&p).body;
    assert!(page.contains("No flow yet"), "{page}");
    assert!(page.contains("cargo run -p solution05"));
    assert!(page.contains("data-seq=\"0\""));
}

#[test]
fn a_code_left_unused_past_its_lifetime_is_shown_as_expired() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    code_for(&p, "lab-client", &[]);
    let page = inspector(&p).body;
    assert!(
        card(&page, 1).contains("Waiting for the application to trade its code"),
        "{page}"
    );
    clock.advance(Duration::from_secs(61));
    let page = inspector(&p).body;
    assert!(
        card(&page, 1).contains("the code expired unused"),
        "{}",
        card(&page, 1)
    );
}

#[test]
fn a_long_flow_shows_its_first_and_last_steps_and_counts_the_rest() {
    let p = start();
    let (access, _) = tokens(&p);
    for _ in 0..30 {
        get(
            &format!("{}/api/posts?limit=1", p.base_url()),
            Some(&access),
        );
    }
    let page = inspector(&p).body;
    let flow = card(&page, 1);
    assert!(
        flow.contains("more steps not shown:") && flow.contains("× GET /api/posts 200"),
        "{flow}"
    );
    assert!(
        flow.contains("Tokens issued; 30 API calls answered"),
        "{flow}"
    );
    assert!(
        flow.matches("class=\"step").count() < 15,
        "the card stays short"
    );
}
