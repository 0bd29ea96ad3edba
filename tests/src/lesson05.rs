//! Lesson 05 — Collect the data: bearer calls (RFC 6750 §2.1), pagination,
//! JSON Lines, 429 Retry-After, and a 401 explained.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::ProgressBar;
use labkit::{ApiError, Client, Post, Profile, Secret};
use mock_provider::{Config, ManualClock, MockProvider};

use crate::support::{
    Scripted, approved_code, client_at, client_for, json_answer, provider, within,
};

type Sleep<'a> = &'a dyn Fn(Duration);
type FetchProfile = fn(&Client, &Secret, Sleep) -> Result<Profile, ApiError>;
type CollectPosts =
    fn(&Client, &Secret, &mut dyn std::io::Write, &ProgressBar, Sleep) -> Result<usize, ApiError>;

const REDIRECT: &str = "http://127.0.0.1:8123/callback";

/// An access token for `user` at `p`, with `scope`, got the way lesson 04 does.
fn token_for(p: &MockProvider, user: &str, scope: &str) -> Secret {
    let code = if user == "alice" {
        approved_code(p, "lab-client", REDIRECT, scope)
    } else {
        let url = format!(
            "{}/authorize?response_type=code&client_id=lab-client&redirect_uri={}&scope={}&state=s",
            p.base_url(),
            url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>(),
        );
        Secret::new(
            p.resource_owner(user)
                .approve(&url)
                .unwrap()
                .param("code")
                .unwrap(),
        )
    };
    let answer = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(&format!("{}/token", p.base_url()))
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", REDIRECT),
            ("client_id", "lab-client"),
            ("client_secret", "lab-secret"),
        ])
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&answer).unwrap();
    Secret::new(
        json["access_token"]
            .as_str()
            .expect("the provider issues a token"),
    )
}

fn no_sleep(_: Duration) {
    panic!("slept, though the API never answered 429");
}

/// Collects with a watchdog; returns the result and the lines written.
fn collect(
    collect_posts: CollectPosts,
    client: Client,
    token: Secret,
    sleep: Arc<dyn Fn(Duration) + Send + Sync>,
) -> (Result<usize, ApiError>, Vec<String>) {
    within(
        20,
        "collect_posts did not return (does it retry forever?)",
        move || {
            let mut out = Vec::new();
            let result = collect_posts(&client, &token, &mut out, &ProgressBar::hidden(), &*sleep);
            let text = String::from_utf8(out).expect("the output is UTF-8");
            (result, text.lines().map(str::to_string).collect())
        },
    )
}

pub fn profile_is_the_users(fetch_profile: FetchProfile) {
    let p = provider();
    for user in ["alice", "bob"] {
        let token = token_for(&p, user, "profile");
        let profile = fetch_profile(&client_for(&p), &token, &no_sleep).unwrap_or_else(|e| {
            panic!(
                "GET {}/api/me with the token should work, got: {e}",
                p.base_url()
            )
        });
        assert_eq!(
            profile.username, user,
            "the profile is the user whose token it is"
        );
    }
}

pub fn collects_every_post_exactly_once(collect_posts: CollectPosts) {
    let p = provider();
    for (user, expected) in [("alice", 137), ("bob", 12)] {
        let token = token_for(&p, user, "posts:read");
        let (result, lines) = collect(collect_posts, client_for(&p), token, Arc::new(no_sleep));
        let count = result.unwrap_or_else(|e| panic!("collecting {user}'s posts failed: {e}"));
        assert_eq!(
            count, expected,
            "{user} has {expected} posts: follow `next` until it is null"
        );
        assert_eq!(
            lines.len(),
            expected,
            "write one line per post (JSON Lines)"
        );
        let mut ids = HashSet::new();
        for line in &lines {
            let post: Post = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("each line must be one post as JSON ({e}): {line}"));
            assert!(
                post.id.starts_with(user),
                "{user}'s posts only, got {}",
                post.id
            );
            assert!(
                ids.insert(post.id.clone()),
                "post {} was written twice",
                post.id
            );
        }
    }
}

pub fn obeys_retry_after(collect_posts: CollectPosts) {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config {
        rate_limit: Some(1),
        ..Config::default().with_clock(clock.clone())
    })
    .unwrap();
    let token = token_for(&p, "alice", "posts:read");
    let slept = Arc::new(Mutex::new(Vec::new()));
    let (clock2, slept2) = (clock.clone(), slept.clone());
    // Sleeping moves the provider's clock instead of the real one.
    let sleep = Arc::new(move |d: Duration| {
        slept2.lock().unwrap().push(d);
        clock2.advance(d);
    });
    let (result, lines) = collect(collect_posts, client_for(&p), token, sleep);
    let count = result.unwrap_or_else(|e| {
        panic!("with 1 request a second allowed, collecting must still finish: {e}")
    });
    assert_eq!(
        (count, lines.len()),
        (137, 137),
        "every post, once, after waiting out each 429"
    );
    let slept = slept.lock().unwrap();
    assert!(
        !slept.is_empty(),
        "the API answered 429: wait before trying again (call sleep)"
    );
    assert!(
        slept.iter().all(|d| *d >= Duration::from_secs(1)),
        "wait as long as Retry-After says (1 s here), got {slept:?}"
    );
    let limited = p.events().iter().filter(|e| e.status == 429).count();
    assert!(
        limited <= slept.len(),
        "try again only after waiting: {limited} answers were 429 for {} waits",
        slept.len()
    );
}

pub fn an_expired_token_is_explained(fetch_profile: FetchProfile, collect_posts: CollectPosts) {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    let token = token_for(&p, "alice", "profile posts:read");
    clock.advance(Duration::from_secs(3601));
    match fetch_profile(&client_for(&p), &token, &no_sleep) {
        Err(ApiError::Unauthorized { description }) => {
            assert!(
                description.contains("expired"),
                "keep the API's reason, got {description:?}"
            )
        }
        Err(ApiError::Network(e)) if e.contains("status") => panic!(
            "ureq turned the 401 into Err({e:?}), so its reason was lost: build the agent with \
             http_status_as_error(false) and look at the status yourself"
        ),
        Err(other) => panic!(
            "an expired token: the API answers 401, so expected Err(ApiError::Unauthorized {{ description }}) with the API's reason; got Err({other:?}), which says: {other}"
        ),
        Ok(profile) => panic!(
            "an expired token: the API answers 401, so expected Err(ApiError::Unauthorized), got Ok({profile:?})"
        ),
    }
    let (result, _) = collect(collect_posts, client_for(&p), token, Arc::new(no_sleep));
    match result {
        Err(ApiError::Unauthorized { .. }) => {}
        Err(other) => panic!(
            "collect_posts with an expired token: expected Err(ApiError::Unauthorized), got Err({other:?}), which says: {other}"
        ),
        Ok(n) => panic!(
            "collect_posts with an expired token: expected Err(ApiError::Unauthorized), got Ok({n})"
        ),
    }
}

pub fn a_missing_scope_is_forbidden(collect_posts: CollectPosts) {
    let p = provider();
    let token = token_for(&p, "alice", "profile");
    let (result, lines) = collect(collect_posts, client_for(&p), token, Arc::new(no_sleep));
    assert!(
        matches!(result, Err(ApiError::Forbidden { .. })),
        "a token without posts:read gets 403: expected Err(ApiError::Forbidden), got {result:?}"
    );
    assert!(lines.is_empty(), "nothing is written when the API refuses");
}

const PROFILE: &str =
    r#"{"id":1,"username":"alice","name":"Alice Liddell","email":"alice@example.test"}"#;

fn too_many(retry_after: &str) -> crate::support::Canned {
    (
        429,
        vec![
            ("Retry-After", retry_after.to_string()),
            ("Content-Type", "application/json".to_string()),
        ],
        r#"{"error":"rate_limited","error_description":"slow down"}"#.to_string(),
    )
}

/// Runs `fetch_profile` against a replica, recording each sleep.
fn profile_from(
    api: &Scripted,
    fetch_profile: FetchProfile,
) -> (Result<Profile, ApiError>, Vec<Duration>) {
    let slept = Arc::new(Mutex::new(Vec::new()));
    let (client, record) = (client_at(&api.base), slept.clone());
    let result = within(
        10,
        "fetch_profile did not return (does it retry forever?)",
        move || {
            fetch_profile(&client, &Secret::new("replica-token"), &move |d| {
                record.lock().unwrap().push(d)
            })
        },
    );
    let slept = slept.lock().unwrap().clone();
    (result, slept)
}

pub fn waits_as_long_as_retry_after_says(fetch_profile: FetchProfile) {
    let api = Scripted::start(vec![too_many("3"), json_answer(200, PROFILE)]);
    let (result, slept) = profile_from(&api, fetch_profile);
    let profile =
        result.unwrap_or_else(|e| panic!("after one 429 and a wait, the API answers: {e}"));
    assert_eq!(profile.username, "alice");
    assert_eq!(
        slept,
        [Duration::from_secs(3)],
        "the API said `Retry-After: 3`: sleep exactly that long, once, then try again"
    );
    for request in api.received() {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer replica-token"),
            "send the token as `Authorization: Bearer <token>` (RFC 6750 §2.1) on every try"
        );
        assert!(
            !request.url.contains("replica-token"),
            "never put the token in the URL"
        );
    }
}

/// RFC 9110 §10.2.3: `Retry-After` may be an HTTP-date instead of seconds.
pub fn retry_after_may_be_a_date(fetch_profile: FetchProfile) {
    let in_10_s = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(10));
    let api = Scripted::start(vec![too_many(&in_10_s), json_answer(200, PROFILE)]);
    let (result, slept) = profile_from(&api, fetch_profile);
    result.unwrap_or_else(|e| panic!("after one 429 and a wait, the API answers: {e}"));
    assert!(
        slept.len() == 1 && (8..=10).contains(&slept[0].as_secs()),
        "the API said `Retry-After: {in_10_s}`, 10 s from now: wait until then, once (waited {slept:?})"
    );
}

/// GitHub answers a used-up rate limit with 403, `x-ratelimit-remaining: 0` and
/// `x-ratelimit-reset` (seconds since 1970): a wait, not a missing scope.
pub fn a_403_with_rate_limit_headers_is_waited_out(fetch_profile: FetchProfile) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let limited = (
        403,
        vec![
            ("x-ratelimit-remaining", "0".to_string()),
            ("x-ratelimit-reset", (now + 5).to_string()),
            ("Content-Type", "application/json".to_string()),
        ],
        r#"{"message":"API rate limit exceeded"}"#.to_string(),
    );
    let api = Scripted::start(vec![limited, json_answer(200, PROFILE)]);
    let (result, slept) = profile_from(&api, fetch_profile);
    result.unwrap_or_else(|e| {
        panic!("a 403 with x-ratelimit-remaining: 0 is a rate limit: wait and try again, got {e}")
    });
    assert!(
        slept.len() == 1 && (3..=5).contains(&slept[0].as_secs()),
        "wait until x-ratelimit-reset, 5 s from now, once (waited {slept:?})"
    );
}

pub fn gives_up_when_the_api_keeps_answering_429(fetch_profile: FetchProfile) {
    let api = Scripted::start(vec![too_many("1")]);
    let (result, slept) = profile_from(&api, fetch_profile);
    assert!(
        matches!(result, Err(ApiError::RateLimited { .. })),
        "an API that always answers 429: give up after a few tries with Err(ApiError::RateLimited), got {result:?}"
    );
    let tries = api.received().len();
    assert!(
        (2..=10).contains(&tries),
        "try a few times (MAX_RETRIES + 1), not {tries}"
    );
    assert!(
        slept.len() >= tries - 1,
        "wait before each new try: {tries} tries, {} waits",
        slept.len()
    );
}

pub fn follows_next_until_null_and_encodes_the_cursor(collect_posts: CollectPosts) {
    let post =
        |id: &str| format!(r#"{{"id":"{id}","created_at":"2026-01-01T08:00:00Z","text":"t"}}"#);
    // A short first page that is not the last, with a cursor that needs encoding.
    let api = Scripted::start(vec![
        json_answer(
            200,
            &format!(
                r#"{{"posts":[{},{}],"next":"a+b/c=="}}"#,
                post("p1"),
                post("p2")
            ),
        ),
        json_answer(200, &format!(r#"{{"posts":[{}],"next":null}}"#, post("p3"))),
    ]);
    let (client, token) = (client_at(&api.base), Secret::new("replica-token"));
    let (result, lines) = collect(collect_posts, client, token, Arc::new(no_sleep));
    assert_eq!(
        result.unwrap_or_else(|e| panic!("{e}")),
        3,
        "stop when `next` is null, not when a page is short: this API sent 2 posts and a `next`"
    );
    assert_eq!(lines.len(), 3, "one JSON line per post");
    let received = api.received();
    assert_eq!(received.len(), 2, "one request per page");
    assert_eq!(
        received[0].query("cursor"),
        None,
        "the first page has no cursor"
    );
    assert_eq!(
        received[1].query("cursor").as_deref(),
        Some("a+b/c=="),
        "send `next` back as `cursor`, encoded (build the URL with url::Url and query_pairs_mut): got {}",
        received[1].url
    );
}

#[macro_export]
macro_rules! lesson05_suite {
    ($k:ident) => { $crate::lesson05_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            profile_is_the_users => $crate::lesson05::profile_is_the_users($k::fetch_profile);
            collects_every_post_exactly_once => $crate::lesson05::collects_every_post_exactly_once($k::collect_posts);
            obeys_retry_after => $crate::lesson05::obeys_retry_after($k::collect_posts);
            an_expired_token_is_explained => $crate::lesson05::an_expired_token_is_explained($k::fetch_profile, $k::collect_posts);
            a_missing_scope_is_forbidden => $crate::lesson05::a_missing_scope_is_forbidden($k::collect_posts);
            waits_as_long_as_retry_after_says => $crate::lesson05::waits_as_long_as_retry_after_says($k::fetch_profile);
            gives_up_when_the_api_keeps_answering_429 => $crate::lesson05::gives_up_when_the_api_keeps_answering_429($k::fetch_profile);
            retry_after_may_be_a_date => $crate::lesson05::retry_after_may_be_a_date($k::fetch_profile);
            a_403_with_rate_limit_headers_is_waited_out => $crate::lesson05::a_403_with_rate_limit_headers_is_waited_out($k::fetch_profile);
            follows_next_until_null_and_encodes_the_cursor => $crate::lesson05::follows_next_until_null_and_encodes_the_cursor($k::collect_posts);
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
