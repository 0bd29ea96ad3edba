//! A browser stand-in for `tests/tests/mix_up.rs`, run as `$BROWSER`: a
//! program under test opens it with the authorization URL, as it would open a
//! real browser (the `webbrowser` crate honours `$BROWSER`).
//!
//! It plays a mix-up (RFC 9700 §4.4, RFC 9207): before the real answer, the
//! program's listener gets an answer with the program's own `state`, a code
//! the attacker got from another provider, and `iss=http://attacker.example`.
//! Then alice approves at the real provider and her browser follows the real
//! redirect. A program that checks `iss` stops at the first answer; one that
//! does not trades the forged code at its token endpoint.

use lab_tests::lesson03::{ATTACKER_ISS, FORGED_CODE};
use mock_provider::ResourceOwner;

fn main() -> std::process::ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: mix-up-browser AUTHORIZATION_URL (run as $BROWSER by a lesson program)");
        return std::process::ExitCode::from(2);
    };
    let param = |name: &str| {
        url::Url::parse(&url).ok().and_then(|u| {
            u.query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
        })
    };
    let (Some(state), Some(redirect_uri)) = (param("state"), param("redirect_uri")) else {
        eprintln!("mix-up-browser: {url} has no state or redirect_uri");
        return std::process::ExitCode::from(2);
    };
    let mut forged = url::Url::parse(&redirect_uri).expect("the redirect URI is a URL");
    forged
        .query_pairs_mut()
        .append_pair("code", FORGED_CODE)
        .append_pair("state", &state)
        .append_pair("iss", ATTACKER_ISS);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    // The answer does not matter: the program's own output says what it did.
    let _ = agent.get(forged.as_str()).call();
    // Then the real answer, as a person would give it (lab user alice).
    // The program may have stopped already: then nobody answers the redirect.
    let _ = ResourceOwner::new("alice", "wonderland")
        .approve(&url)
        .and_then(|r| r.follow());
    std::process::ExitCode::SUCCESS
}
