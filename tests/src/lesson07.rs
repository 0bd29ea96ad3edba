//! Lesson 07 — Tokens that last: absolute expiry, early refresh, refresh with
//! rotation (RFC 6749 §6, RFC 9700 §4.14), a token file that only its owner
//! can read and that is replaced atomically, re-authorization when the refresh
//! token is refused, and logout by revocation (RFC 7009).
//!
//! Time comes from a [`ManualClock`] (the provider's) passed as `now`: no check
//! sleeps. Files go to fresh folders under the system's temporary folder, never
//! to the real configuration folder.
//!
//! The checks are generic over the lesson's `StoredTokens` and look at it
//! through its JSON form (`access_token`, `refresh_token`, `expires_at`,
//! `scope`): the file format is part of what they check.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use labkit::{Client, ErrorCode, LabError, Secret, TokenError, Tokens};
use mock_provider::{Clock, Config, ManualClock, MockProvider};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::nochmod;
use crate::support::{
    Canned, Scripted, approved_code, client_at, client_for, get_with_token, json_answer, provider,
};

/// What the checks need of the lesson's `StoredTokens`.
pub trait Stored: Serialize + DeserializeOwned + Debug + Clone + PartialEq {}
impl<T: Serialize + DeserializeOwned + Debug + Clone + PartialEq> Stored for T {}

pub type StoredFrom<S> = fn(Tokens, SystemTime) -> S;
pub type NeedsRefresh<S> = fn(&S, SystemTime) -> bool;
pub type Refresh<S> = fn(&Client, &S, SystemTime) -> Result<S, TokenError>;
pub type CachePath = fn(&Client) -> Result<PathBuf, LabError>;
pub type Save<S> = fn(&Path, &S) -> Result<(), LabError>;
pub type Load<S> = fn(&Path) -> Result<Option<S>, LabError>;
pub type ValidTokens<S> = fn(
    &Client,
    &Path,
    SystemTime,
    &mut dyn FnMut() -> Result<Tokens, LabError>,
) -> Result<S, LabError>;
pub type Logout = fn(&Client, &Path) -> Result<String, LabError>;

const REDIRECT: &str = "http://127.0.0.1:8123/callback";
const SCOPE: &str = "profile posts:read";
/// A fixed "now" for the checks that need no provider: 2027-01-15.
const T: u64 = 1_800_000_000;

/// `StoredTokens` as the checks see it: its JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Plain {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<u64>,
    scope: Option<String>,
}

fn plain<S: Stored>(stored: &S) -> Plain {
    let json = serde_json::to_value(stored).expect("StoredTokens serializes to JSON");
    serde_json::from_value(json.clone()).unwrap_or_else(|e| {
        panic!(
            "StoredTokens must keep the fields access_token, refresh_token, expires_at (Unix seconds) and scope ({e}); got {json}"
        )
    })
}

fn stored<S: Stored>(p: &Plain) -> S {
    serde_json::from_value(serde_json::to_value(p).expect("plain JSON")).unwrap_or_else(|e| {
        panic!("StoredTokens must read {{access_token, refresh_token, expires_at, scope}} ({e})")
    })
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn tokens(access: &str, refresh: Option<&str>, expires_in: Option<u64>) -> Tokens {
    Tokens {
        access_token: Secret::new(access),
        token_type: "Bearer".into(),
        expires_in,
        refresh_token: refresh.map(Secret::new),
        scope: Some(SCOPE.into()),
    }
}

/// The tokens as kept, built here (not with the lesson's `stored_from`), so
/// that a check of one step does not depend on another.
fn kept(tokens: &Tokens, now: SystemTime) -> Plain {
    Plain {
        access_token: tokens.access_token.expose().into(),
        refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().into()),
        expires_at: tokens.expires_in.map(|s| secs(now) + s),
        scope: tokens.scope.clone(),
    }
}

/// A fresh folder under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "oauth2-lab-check07-{what}-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        TempDir(dir)
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes tokens the way a previous run would have (plain JSON), so the checks
/// of `valid_tokens` and `logout` do not depend on the lesson's `save`.
fn write_kept(path: &Path, p: &Plain) {
    std::fs::write(path, serde_json::to_string_pretty(p).unwrap()).unwrap();
}

fn read_kept(path: &Path) -> Plain {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the token file {} should be there: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the token file should be StoredTokens as JSON ({e}): {text}"))
}

fn with_clock(clock: &ManualClock) -> MockProvider {
    MockProvider::start(Config::default().with_clock(clock.clone())).expect("a mock provider")
}

/// A POST to the provider as `lab-client`, without the lesson's code.
fn post_as_client(url: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut form = form.to_vec();
    form.extend([("client_id", "lab-client"), ("client_secret", "lab-secret")]);
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
        .post(url)
        .send_form(form)
        .unwrap_or_else(|e| panic!("POST {url} got no answer: {e}"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// Tokens for alice from the mock provider, got the way lesson 04 does.
fn issue(p: &MockProvider) -> Tokens {
    let code = approved_code(p, "lab-client", REDIRECT, SCOPE);
    let (status, json) = post_as_client(
        &format!("{}/token", p.base_url()),
        &[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(status, 200, "the mock provider issues tokens: {json}");
    serde_json::from_value(json).unwrap()
}

/// The provider's answer to a refresh with `refresh_token`, sent directly.
fn raw_refresh(p: &MockProvider, refresh_token: &str) -> (u16, serde_json::Value) {
    post_as_client(
        &format!("{}/token", p.base_url()),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

fn me_status(p: &MockProvider, access_token: &str) -> u16 {
    get_with_token(&format!("{}/api/me", p.base_url()), access_token).status
}

/// An `authorize` for `valid_tokens` that must not be called.
fn no_authorize(calls: &Cell<u32>) -> impl FnMut() -> Result<Tokens, LabError> + '_ {
    move || {
        calls.set(calls.get() + 1);
        Err(LabError(
            "the check's authorize: should not have been called".into(),
        ))
    }
}

/// A count that must be right, with what is counted in the message (not a
/// bare "left: 0, right: 1").
#[track_caller]
fn assert_count(got: usize, want: usize, counted: &str, why: &str) {
    assert!(got == want, "{why}: expected {want} {counted}, got {got}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---- Step 1: stored_from ----

pub fn expires_at_is_absolute<S: Stored>(stored_from: StoredFrom<S>) {
    let got = plain(&stored_from(
        tokens("at-1", Some("rt-1"), Some(3600)),
        at(T),
    ));
    assert_eq!(
        got.expires_at,
        Some(T + 3600),
        "expires_in 3600 received at T means expires_at = T + 3600 in Unix seconds: \
         a duration means nothing in the next run, a point in time does"
    );
    assert_eq!(
        (
            got.access_token.as_str(),
            got.refresh_token.as_deref(),
            got.scope.as_deref()
        ),
        ("at-1", Some("rt-1"), Some(SCOPE)),
        "keep the access token, the refresh token and the scope as they came"
    );
    let later = plain(&stored_from(
        tokens("at-1", Some("rt-1"), Some(3600)),
        at(T + 500),
    ));
    assert_eq!(
        later.expires_at,
        Some(T + 4100),
        "count from `now` (the argument), not from the real clock"
    );
    let no_expiry = plain(&stored_from(tokens("at-2", None, None), at(T)));
    assert_eq!(
        (no_expiry.expires_at, no_expiry.refresh_token),
        (None, None),
        "no expires_in: no expires_at (RFC 6749 §5.1 makes it optional)"
    );
}

// ---- Step 2: needs_refresh ----

pub fn refreshes_60_seconds_before_expiry<S: Stored>(needs_refresh: NeedsRefresh<S>) {
    let s: S = stored(&Plain {
        access_token: "at".into(),
        refresh_token: Some("rt".into()),
        expires_at: Some(T + 3600),
        scope: None,
    });
    for (after, expected) in [
        (0, false),
        (3539, false),
        (3541, true),
        (3600, true),
        (7200, true),
    ] {
        assert_eq!(
            needs_refresh(&s, at(T + after)),
            expected,
            "a token expiring at T+3600, at T+{after}: refresh {} (REFRESH_EARLY is 60 s)",
            if expected { "now" } else { "not yet" }
        );
    }
    let forever: S = stored(&Plain {
        expires_at: None,
        ..plain(&s)
    });
    assert!(
        !needs_refresh(&forever, at(T + 10_000_000)),
        "a token with no known expiry is used until the API refuses it: needs_refresh is false"
    );
}

// ---- Step 3: refresh ----

pub fn refresh_rotates_and_the_old_refresh_token_is_refused<S: Stored>(refresh: Refresh<S>) {
    let clock = ManualClock::new();
    let p = with_clock(&clock);
    let first = issue(&p);
    let old_plain = kept(&first, clock.now());
    let old: S = stored(&old_plain);
    clock.advance(Duration::from_secs(3000));
    let new = refresh(&client_for(&p), &old, clock.now()).unwrap_or_else(|e| {
        panic!("a fresh refresh token should give new tokens (RFC 6749 §6), got: {e}")
    });
    let new = plain(&new);
    assert_ne!(
        new.access_token, old_plain.access_token,
        "a refresh gives a new access token"
    );
    assert!(
        new.refresh_token.is_some() && new.refresh_token != old_plain.refresh_token,
        "the mock provider rotates refresh tokens: keep the new one it sent (RFC 9700 §4.14)"
    );
    assert_eq!(
        new.expires_at,
        Some(secs(clock.now()) + 3600),
        "the new expires_at counts from the refresh (`now`), not from the first token"
    );
    assert_eq!(
        new.scope.as_deref(),
        Some(SCOPE),
        "keep the scope (the provider sends it)"
    );
    assert_eq!(
        me_status(&p, &new.access_token),
        200,
        "the refreshed access token works at /api/me"
    );
    match refresh(&client_for(&p), &old, clock.now()) {
        Err(TokenError::Rejected {
            code: ErrorCode::InvalidGrant,
            ..
        }) => {}
        other => panic!(
            "the rotated-out refresh token, used again, must be refused with invalid_grant \
             (RFC 6749 §6, RFC 9700 §4.14.2): expected Err(TokenError::Rejected {{ code: InvalidGrant, .. }}), got {other:?}"
        ),
    }
}

/// Without a refresh token there is nothing to send (RFC 6749 §6 needs one):
/// not a refusal by the provider, which was never asked.
pub fn refresh_without_a_refresh_token_sends_nothing<S: Stored>(refresh: Refresh<S>) {
    let endpoint = Scripted::start(vec![json_answer(
        400,
        r#"{"error":"invalid_request","error_description":"the check's replica"}"#,
    )]);
    let saved: S = stored(&Plain {
        access_token: "lab_at_only".into(),
        refresh_token: None,
        expires_at: Some(T),
        scope: Some(SCOPE.into()),
    });
    match refresh(&client_at(&endpoint.base), &saved, at(T)) {
        Err(TokenError::NoRefreshToken) => {}
        other => panic!(
            "no refresh token was saved: return Err(TokenError::NoRefreshToken) without asking the provider, got {other:?}"
        ),
    }
    assert_count(
        endpoint.received().len(),
        0,
        "requests to the check's stand-in provider",
        "no refresh token was saved: there is nothing to send to the token endpoint",
    );
}

pub fn refresh_keeps_what_the_answer_leaves_out<S: Stored>(refresh: Refresh<S>) {
    // A provider that does not rotate: no refresh_token and no scope in the answer.
    let endpoint = Scripted::start(vec![json_answer(
        200,
        r#"{"access_token":"replica-at-2","token_type":"Bearer","expires_in":60}"#,
    )]);
    let old: S = stored(&Plain {
        access_token: "replica-at-1".into(),
        refresh_token: Some("replica-rt-1".into()),
        expires_at: Some(T + 10),
        scope: Some("profile".into()),
    });
    let new = refresh(&client_at(&endpoint.base), &old, at(T))
        .unwrap_or_else(|e| panic!("the replica answered 200 with tokens, got: {e}"));
    let new = plain(&new);
    let received = endpoint.received();
    assert_eq!(received.len(), 1, "one request to the token endpoint");
    let r = &received[0];
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("POST", "/token"),
        "POST to client.token_url"
    );
    assert_eq!(
        r.form("grant_type").as_deref(),
        Some("refresh_token"),
        "RFC 6749 §6: grant_type=refresh_token"
    );
    assert_eq!(
        r.form("refresh_token").as_deref(),
        Some("replica-rt-1"),
        "RFC 6749 §6: send the saved refresh token"
    );
    assert!(
        r.header("authorization").is_some() || r.form("client_id").is_some(),
        "the client authenticates as at the code exchange (token_request does it)"
    );
    assert_eq!(new.access_token, "replica-at-2");
    assert_eq!(
        new.expires_at,
        Some(T + 60),
        "expires_at = now + expires_in"
    );
    assert_eq!(
        new.refresh_token.as_deref(),
        Some("replica-rt-1"),
        "the answer had no refresh_token: keep the old one, it still works (RFC 6749 §6)"
    );
    assert_eq!(
        new.scope.as_deref(),
        Some("profile"),
        "the answer had no scope: it is the one granted before (RFC 6749 §5.1), keep it"
    );
}

pub fn an_expired_access_token_is_refused_and_a_refreshed_one_works<S: Stored>(
    needs_refresh: NeedsRefresh<S>,
    refresh: Refresh<S>,
) {
    let clock = ManualClock::new();
    let p = with_clock(&clock);
    let first = issue(&p);
    let old: S = stored(&kept(&first, clock.now()));
    clock.advance(Duration::from_secs(3601));
    assert!(
        needs_refresh(&old, clock.now()),
        "an hour and a second later the access token has expired: needs_refresh must say so"
    );
    assert_eq!(
        me_status(&p, first.access_token.expose()),
        401,
        "the API refuses an expired access token (RFC 6750 §3.1)"
    );
    let new = refresh(&client_for(&p), &old, clock.now())
        .unwrap_or_else(|e| panic!("the refresh token outlives the access token: {e}"));
    assert_eq!(
        me_status(&p, &plain(&new).access_token),
        200,
        "the refreshed access token is accepted"
    );
}

// ---- Step 4: save ----

fn sample<S: Stored>(n: u32) -> S {
    stored(&Plain {
        access_token: format!("lab_at_sample{n}"),
        refresh_token: Some(format!("lab_rt_sample{n}")),
        expires_at: Some(T + u64::from(n)),
        scope: Some(SCOPE.into()),
    })
}

/// Runs `save` where a file's mode cannot be changed (see `nochmod`): a token
/// file or folder created with the default mode and chmod-ed afterwards was
/// readable by others for a moment, which the finished file does not show.
fn save_without_chmod<S: Stored>(save: Save<S>, path: &Path, s: &S) {
    let json = serde_json::to_string(s).unwrap();
    let forbidden = nochmod::without_chmod(|| save(path, &serde_json::from_str(&json).unwrap()));
    match forbidden {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            // Was it the chmod? The same call where chmod works tells.
            if let Err(again) = save(path, s) {
                panic!("save {}: {}", path.display(), again.0);
            }
            panic!(
                "save works only where it may change a file's mode afterwards (here it could not: {}). \
                 Until that chmod, anyone on the computer can open the token file, and keeps reading \
                 it after the chmod. Create the folder with mode 0o700 (DirBuilderExt::mode) and the \
                 file with mode 0o600 (OpenOptionsExt::mode) instead (book/src/lesson07/index.md)",
                e.0
            );
        }
        Err(why) => eprintln!(
            "note: {why}; so this check sees only the final modes, not whether they were set afterwards"
        ),
    }
}

/// Modes as `ls -l` readers know them: in octal.
#[cfg(unix)]
fn assert_mode(path: &Path, mask: u32, want: u32, what: &str) {
    let got = mode(path) & mask;
    assert!(
        got == want,
        "{what}: mode {want:o} expected, got {got:o} ({}). \
         A file created with the default mode and chmod-ed afterwards ends up with the default \
         mode here: this check forbids chmod (book/src/lesson07/index.md)",
        path.display()
    );
}

pub fn saves_0600_in_a_new_folder<S: Stored>(save: Save<S>, load: Load<S>) {
    let tmp = TempDir::new("mode");
    let folder = tmp.0.join("config").join("oauth2-lab");
    let path = folder.join("tokens-check.json");
    let s: S = sample(1);
    save_without_chmod(save, &path, &s);
    assert!(path.is_file(), "save writes {}", path.display());
    #[cfg(unix)]
    {
        assert_mode(
            &path,
            0o777,
            0o600,
            "the token file holds secrets: readable by its owner only",
        );
        assert_mode(
            &folder,
            0o077,
            0,
            "the folders save creates: 0700 (only the group and other bits are checked, which must be 0)",
        );
    }
    #[cfg(not(unix))]
    eprintln!(
        "note: this system has no Unix file modes: the 0600 and 0700 checks are skipped (book/src/lesson07/index.md says what protects the file here)"
    );
    assert_eq!(
        read_kept(&path),
        plain(&s),
        "the file is StoredTokens as JSON"
    );
    assert_eq!(
        load(&path).ok().flatten(),
        Some(s),
        "load reads back what save wrote"
    );
}

pub fn save_replaces_the_file_by_rename<S: Stored>(save: Save<S>, load: Load<S>) {
    let tmp = TempDir::new("rename");
    let path = tmp.0.join("tokens.json");
    std::fs::write(&path, "{\"access_token\":\"old\"}").unwrap();
    #[cfg(unix)]
    let inode_before = {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::metadata(&path).unwrap().ino()
    };
    let s: S = sample(2);
    save_without_chmod(save, &path, &s);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        assert_mode(
            &path,
            0o777,
            0o600,
            "a 0644 file was there before; the saved one must be 0600 all the same: write a new file (mode 0600) and rename it over the old one",
        );
        assert_ne!(
            std::fs::metadata(&path).unwrap().ino(),
            inode_before,
            "write a new file and rename it into place, so a crash leaves the old file or the new one, never half of one"
        );
    }
    assert_eq!(
        tmp.names(),
        ["tokens.json"],
        "no temporary files left behind in the folder"
    );
    let s2: S = sample(3);
    save(&path, &s2).unwrap_or_else(|e| panic!("save a second time: {}", e.0));
    assert_eq!(load(&path).ok().flatten(), Some(s2), "the latest save wins");
    assert_eq!(tmp.names(), ["tokens.json"], "still one file, no leftovers");
}

pub fn a_missing_or_garbled_file_loads_as_nothing<S: Stored>(save: Save<S>, load: Load<S>) {
    let tmp = TempDir::new("garbled");
    let path = tmp.0.join("tokens.json");
    assert!(
        matches!(load(&path), Ok(None)),
        "no file: Ok(None), the program then asks for permission"
    );
    save(&path, &sample::<S>(4)).unwrap_or_else(|e| panic!("save: {}", e.0));
    for garbage in [
        "",
        "{",
        "not json at all",
        r#"{"access_token": 42}"#,
        "\u{0}\u{1}\u{2}",
    ] {
        std::fs::write(&path, garbage).unwrap();
        assert!(
            matches!(load(&path), Ok(None)),
            "a garbled token file ({garbage:?}) loads as Ok(None), never an error or a panic"
        );
    }
    let folder = tmp.0.join("a-folder.json");
    std::fs::create_dir(&folder).unwrap();
    assert!(
        matches!(load(&folder), Ok(None)),
        "an unreadable token file (here a folder) loads as Ok(None)"
    );
}

// ---- Step 5: valid_tokens ----

pub fn good_saved_tokens_are_used_without_network<S: Stored>(valid_tokens: ValidTokens<S>) {
    let endpoint = Scripted::start(vec![json_answer(500, r#"{"error":"server_error"}"#)]);
    let client = client_at(&endpoint.base);
    let tmp = TempDir::new("good");
    let path = tmp.0.join("tokens.json");
    let now = SystemTime::now();
    for expires_at in [Some(secs(now) + 3600), None] {
        let saved = Plain {
            access_token: "lab_at_saved".into(),
            refresh_token: Some("lab_rt_saved".into()),
            expires_at,
            scope: Some(SCOPE.into()),
        };
        write_kept(&path, &saved);
        let calls = Cell::new(0);
        let got = valid_tokens(&client, &path, now, &mut no_authorize(&calls))
            .unwrap_or_else(|e| panic!("saved tokens good for an hour: use them, got: {}", e.0));
        assert_eq!(
            plain(&got),
            saved,
            "return the saved tokens as they are (expires_at {expires_at:?})"
        );
        assert_count(
            calls.get() as usize,
            0,
            "calls of authorize",
            "good saved tokens need no new permission",
        );
        assert_count(
            endpoint.received().len(),
            0,
            "requests to the check's stand-in provider",
            "good saved tokens need no network at all: no refresh",
        );
    }
}

pub fn expiring_tokens_are_refreshed_and_saved<S: Stored>(valid_tokens: ValidTokens<S>) {
    let clock = ManualClock::new();
    let p = with_clock(&clock);
    let first = issue(&p);
    let tmp = TempDir::new("expiring");
    let path = tmp.0.join("tokens.json");
    write_kept(&path, &kept(&first, clock.now()));
    clock.advance(Duration::from_secs(3550));
    let calls = Cell::new(0);
    let got = valid_tokens(
        &client_for(&p),
        &path,
        clock.now(),
        &mut no_authorize(&calls),
    )
    .unwrap_or_else(|e| panic!("50 s before expiry, refresh: got {}", e.0));
    let got = plain(&got);
    assert_count(
        calls.get() as usize,
        0,
        "calls of authorize",
        "a working refresh token needs no new permission",
    );
    assert_ne!(
        got.access_token,
        first.access_token.expose(),
        "50 s before expiry the access token must be refreshed (REFRESH_EARLY is 60 s)"
    );
    assert_eq!(
        me_status(&p, &got.access_token),
        200,
        "the refreshed token works"
    );
    assert_eq!(
        read_kept(&path),
        got,
        "save the refreshed tokens at once: the old refresh token is dead now (rotation)"
    );
}

pub fn a_refused_refresh_token_means_asking_again<S: Stored>(valid_tokens: ValidTokens<S>) {
    let clock = ManualClock::new();
    let p = with_clock(&clock);
    let first = issue(&p);
    // The user revoked this app's access in the provider's settings.
    let (status, _) = post_as_client(
        &format!("{}/revoke", p.base_url()),
        &[("token", first.refresh_token.as_ref().unwrap().expose())],
    );
    assert_eq!(status, 200);
    let tmp = TempDir::new("refused");
    let path = tmp.0.join("tokens.json");
    write_kept(&path, &kept(&first, clock.now()));
    clock.advance(Duration::from_secs(3601));
    let fresh = RefCell::new(None);
    let calls = Cell::new(0);
    let mut authorize = || {
        calls.set(calls.get() + 1);
        let tokens = issue(&p);
        *fresh.borrow_mut() = Some(tokens.access_token.expose().to_string());
        Ok(tokens)
    };
    let got =
        valid_tokens(&client_for(&p), &path, clock.now(), &mut authorize).unwrap_or_else(|e| {
            panic!(
                "a refused refresh token (invalid_grant) means: ask for permission again; got {}",
                e.0
            )
        });
    let got = plain(&got);
    assert_count(
        calls.get() as usize,
        1,
        "calls of authorize",
        "the provider refused the refresh token with invalid_grant: call authorize, once",
    );
    assert_eq!(
        Some(got.access_token.clone()),
        fresh.borrow().clone(),
        "return the new tokens"
    );
    assert_eq!(
        got.expires_at,
        Some(secs(clock.now()) + 3600),
        "expires_at of the new tokens: now + expires_in"
    );
    assert_eq!(read_kept(&path), got, "save the new tokens");
}

pub fn no_saved_tokens_means_asking_for_permission<S: Stored>(valid_tokens: ValidTokens<S>) {
    let endpoint = Scripted::start(vec![json_answer(500, r#"{"error":"server_error"}"#)]);
    let client = client_at(&endpoint.base);
    let tmp = TempDir::new("none");
    let path = tmp.0.join("sub").join("tokens.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    for garbled in [None, Some("{\"access_tok")] {
        if let Some(text) = garbled {
            std::fs::write(&path, text).unwrap();
        }
        let calls = Cell::new(0);
        let mut authorize = || {
            calls.set(calls.get() + 1);
            Ok(tokens("lab_at_new", Some("lab_rt_new"), Some(3600)))
        };
        let got = valid_tokens(&client, &path, at(T), &mut authorize).unwrap_or_else(|e| {
            panic!(
                "no usable saved tokens (file {garbled:?}): ask for permission, got {}",
                e.0
            )
        });
        assert_count(
            calls.get() as usize,
            1,
            "calls of authorize",
            "no usable saved tokens: call authorize once",
        );
        let expected = kept(&tokens("lab_at_new", Some("lab_rt_new"), Some(3600)), at(T));
        assert_eq!(
            plain(&got),
            expected,
            "return the new tokens, expiring at now + expires_in"
        );
        assert_eq!(read_kept(&path), expected, "and save them");
        std::fs::remove_file(&path).unwrap();
    }
    assert_count(
        endpoint.received().len(),
        0,
        "requests to the check's stand-in provider",
        "nothing to refresh",
    );
}

pub fn a_provider_outage_keeps_the_saved_tokens<S: Stored>(valid_tokens: ValidTokens<S>) {
    let tmp = TempDir::new("outage");
    let path = tmp.0.join("tokens.json");
    // 30 s before expiry the refresh fails, but the access token still works:
    // use it (with a warning). 5 s after expiry there is nothing to use: an error.
    for (expires_at, still_good) in [(T + 30, true), (T - 5, false)] {
        let endpoint = Scripted::start(vec![(503, vec![], "down for maintenance".into())]);
        let saved = Plain {
            access_token: "lab_at_saved".into(),
            refresh_token: Some("lab_rt_saved".into()),
            expires_at: Some(expires_at),
            scope: Some(SCOPE.into()),
        };
        write_kept(&path, &saved);
        let calls = Cell::new(0);
        let result = valid_tokens(
            &client_at(&endpoint.base),
            &path,
            at(T),
            &mut no_authorize(&calls),
        );
        let tries = endpoint.received().len();
        assert!(
            tries == 1,
            "the access token expires {}: valid_tokens should try to refresh once, and the token endpoint (which answers 503) got {tries} requests",
            if still_good { "in 30 s" } else { "5 s ago" }
        );
        if still_good {
            let got = result.unwrap_or_else(|e| {
                panic!(
                    "the token endpoint answered 503 while the access token still has 30 s: use the saved tokens with a warning, do not stop; got {}",
                    e.0
                )
            });
            assert_eq!(
                plain(&got),
                saved,
                "return the saved tokens: they work for 30 s more"
            );
        } else {
            assert!(
                result.is_err(),
                "the token endpoint answered 503 and the access token has expired: report it as an error, got {result:?}"
            );
        }
        assert!(
            calls.get() == 0,
            "a 503 is not a refused refresh token (only invalid_grant is): do not ask for permission again; authorize was called {} times",
            calls.get()
        );
        assert_eq!(
            read_kept(&path),
            saved,
            "keep the saved tokens: the refresh token may work once the provider is back"
        );
    }
}

// ---- The program's lock (given) with step 5 ----

pub type LockTokens<L> = fn(&Path, Duration, &mut dyn FnMut(Duration)) -> Result<L, LabError>;

/// RFC 9700 §4.14.2: with rotation, a refresh token used twice ends the grant.
/// Two runs at once must not both refresh: the second waits for the first's
/// lock, then reads the tokens it saved. No sleeping: the second run's `sleep`
/// waits until the first run is done.
pub fn two_runs_at_once_refresh_only_once<S: Stored + Send + 'static, L: 'static>(
    lock_tokens: LockTokens<L>,
    valid_tokens: ValidTokens<S>,
) {
    let clock = ManualClock::new();
    let p = with_clock(&clock);
    let first = issue(&p);
    let tmp = TempDir::new("race");
    let path = tmp.0.join("tokens.json");
    write_kept(&path, &kept(&first, clock.now()));
    clock.advance(Duration::from_secs(3550));
    let now = clock.now();
    let client = client_for(&p);
    let held = lock_tokens(&path, Duration::from_secs(300), &mut |_| {
        panic!("nobody holds the lock yet: take it without waiting")
    })
    .unwrap_or_else(|e| panic!("the first run takes the lock: {}", e.0));
    let (waiting_tx, waiting_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let second = {
        let (path, client) = (path.clone(), client.clone());
        std::thread::spawn(move || {
            let mut sleep = |_: Duration| {
                let _ = waiting_tx.send(());
                // Until the first run is done (or the check gave up).
                let _ = done_rx.recv();
            };
            // An error, not a panic: if the first run failed, the check already
            // says why, and this run's folder may be gone.
            let lock = lock_tokens(&path, Duration::from_secs(300), &mut sleep)
                .map_err(|e| format!("the second run gets the lock after the first: {}", e.0))?;
            let calls = Cell::new(0);
            let got = valid_tokens(&client, &path, now, &mut no_authorize(&calls));
            drop(lock);
            got.map(|s| plain(&s)).map_err(|e| e.0)
        })
    };
    let waited = waiting_rx.recv_timeout(Duration::from_secs(20));
    let calls = Cell::new(0);
    let fresh = valid_tokens(&client, &path, now, &mut no_authorize(&calls));
    drop(held);
    drop(done_tx);
    let fresh = plain(&fresh.unwrap_or_else(|e| panic!("the first run refreshes: {}", e.0)));
    assert!(
        waited.is_ok(),
        "while one run holds the lock, lock_tokens must wait (call sleep), not go ahead"
    );
    let second = second
        .join()
        .expect("the second run")
        .unwrap_or_else(|e| panic!("the second run, after the first refreshed: {e}"));
    assert_eq!(
        second, fresh,
        "the second run reads the tokens the first one saved, and does not refresh again (the old refresh token was rotated out: using it again ends the grant, RFC 9700 §4.14.2)"
    );
    assert_eq!(
        me_status(&p, &second.access_token),
        200,
        "the tokens both runs use still work"
    );
    assert!(
        !tmp.names().iter().any(|n| n.ends_with(".lock")),
        "the lock file is removed when the run ends: {:?}",
        tmp.names()
    );
}

/// The lock on its own: it times out with an error naming the lock file, and
/// a lock left behind by a crashed run (older than the patience plus a minute)
/// is removed.
pub fn a_held_lock_times_out_and_a_stale_one_is_removed<L: Debug>(lock_tokens: LockTokens<L>) {
    let tmp = TempDir::new("lock");
    let path = tmp.0.join("tokens.json");
    let held = lock_tokens(&path, Duration::from_secs(2), &mut |_| {
        panic!("nobody holds the lock yet")
    })
    .unwrap_or_else(|e| panic!("{}", e.0));
    let mut slept = Duration::ZERO;
    let result = lock_tokens(&path, Duration::from_secs(2), &mut |d| slept += d);
    let error =
        result.expect_err("another run holds the lock for longer than the patience: an error");
    assert!(
        error.0.contains(".lock"),
        "say which lock file to delete if no other run is going: {}",
        error.0
    );
    assert!(
        slept >= Duration::from_secs(2) && slept < Duration::from_secs(3),
        "wait about the patience (2 s), in short polls, then give up; waited {slept:?}"
    );
    // The first run crashed long ago: its lock is as old as ten minutes.
    std::mem::forget(held);
    let lock = tmp
        .names()
        .into_iter()
        .find(|n| n.ends_with(".lock"))
        .expect("the lock file is next to the token file");
    let old = SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(tmp.0.join(&lock))
        .and_then(|f| f.set_modified(old))
        .unwrap();
    let again = lock_tokens(&path, Duration::from_secs(2), &mut |_| {
        panic!("a lock ten minutes old (patience 2 s) is stale: remove it, do not wait")
    });
    assert!(again.is_ok(), "a stale lock is removed: {again:?}");
}

// ---- Step 6: logout ----

pub fn logout_revokes_both_tokens_and_deletes_the_file(logout: Logout) {
    let p = provider();
    let first = issue(&p);
    let tmp = TempDir::new("logout");
    let path = tmp.0.join("tokens.json");
    let saved = kept(&first, SystemTime::now());
    write_kept(&path, &saved);
    let said = logout(&client_for(&p), &path)
        .unwrap_or_else(|e| panic!("logout at a working provider: {}", e.0));
    assert!(!path.exists(), "logout deletes the token file");
    assert_eq!(
        me_status(&p, &saved.access_token),
        401,
        "after logout the access token must be dead: revoke it (RFC 7009 §2)"
    );
    let (status, json) = raw_refresh(&p, saved.refresh_token.as_deref().unwrap());
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("invalid_grant")),
        "after logout the refresh token must be refused: revoke it (RFC 7009 §2)"
    );
    for secret in [&saved.access_token, saved.refresh_token.as_ref().unwrap()] {
        assert!(
            !said.contains(secret.as_str()),
            "what logout says must not show a token whole: {said}"
        );
    }
}

pub fn logout_sends_rfc7009_requests_refresh_token_first(logout: Logout) {
    let endpoint = Scripted::start(vec![json_answer(200, "{}")]);
    let tmp = TempDir::new("revoke");
    let path = tmp.0.join("tokens.json");
    write_kept(
        &path,
        &Plain {
            access_token: "replica-at-9".into(),
            refresh_token: Some("replica-rt-9".into()),
            expires_at: Some(T),
            scope: None,
        },
    );
    logout(&client_at(&endpoint.base), &path)
        .unwrap_or_else(|e| panic!("the replica answers 200 to each revocation: {}", e.0));
    let received = endpoint.received();
    let sent: Vec<_> = received
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.url.as_str(),
                r.form("token"),
                r.form("token_type_hint"),
            )
        })
        .collect();
    let hint = |token: &str, kind: &str| {
        (
            "POST",
            "/revoke",
            Some(token.to_string()),
            Some(kind.to_string()),
        )
    };
    assert_eq!(
        sent,
        [
            hint("replica-rt-9", "refresh_token"),
            hint("replica-at-9", "access_token"),
        ],
        "RFC 7009 §2.1: POST token and token_type_hint to client.revoke_url, the refresh token first \
         (so no new access token can be made from it), then the access token"
    );
    for r in &received {
        assert!(
            r.header("authorization").is_some(),
            "the client authenticates at the revocation endpoint as at the token endpoint (RFC 7009 §2.1)"
        );
    }
    assert!(!path.exists(), "then delete the file");
}

pub fn logout_keeps_the_file_when_the_provider_fails(logout: Logout) {
    let down: Canned = (503, vec![], "down for maintenance".into());
    let endpoint = Scripted::start(vec![down]);
    let tmp = TempDir::new("logout-fails");
    let path = tmp.0.join("tokens.json");
    let saved = Plain {
        access_token: "replica-at-8".into(),
        refresh_token: Some("replica-rt-8".into()),
        expires_at: Some(T),
        scope: None,
    };
    write_kept(&path, &saved);
    let result = logout(&client_at(&endpoint.base), &path);
    assert!(
        result.is_err(),
        "the revocation endpoint answered 503: logout failed, say so; got {result:?}"
    );
    assert_eq!(
        read_kept(&path),
        saved,
        "keep the file when the provider did not revoke: a second try can still revoke the tokens"
    );
}

/// What `logout` says when the provider cannot be told (no revocation
/// endpoint) is judged by meaning: it names the deleted file, says the tokens
/// still work (they stay valid until they expire), and claims no revocation.
fn judge_logout_without_revocation(said: &str, path: &Path) {
    let example = format!(
        "Deleted {}; the provider has no revocation endpoint, so the tokens stay valid until they expire",
        path.display()
    );
    let lower = said.to_lowercase();
    assert!(
        said.contains(&path.display().to_string()),
        "name the file you deleted ({}), so the person knows which; you said {said:?}. For example: {example:?}",
        path.display()
    );
    let still_work = [
        "valid",
        "still work",
        "usable",
        "until they expire",
        "not revoked",
        "were not told",
        "was not told",
        "not been told",
        "no revocation",
        "cannot revoke",
        "can't revoke",
        "could not revoke",
        "not be revoked",
    ];
    assert!(
        still_work.iter().any(|w| lower.contains(w)),
        "say that the tokens still work: the provider was not told, so they stay valid until they expire. \
         Any of these words does it: {}; you said {said:?}. For example: {example:?}",
        still_work.map(|w| format!("{w:?}")).join(", ")
    );
    // "revoked", unless "not", "n't", "never" or "be(en)" come just before it.
    let claims_revocation = lower.match_indices("revoked").any(|(at, _)| {
        let before = &lower[..at];
        !["not ", "n't ", "never ", "be ", "been "]
            .iter()
            .any(|w| before.ends_with(w))
    });
    assert!(
        !claims_revocation,
        "nothing was revoked (there is no revocation endpoint): do not say it was; you said {said:?}. For example: {example:?}"
    );
}

/// RFC 7009 §2: a server must revoke refresh tokens but need not revoke access
/// tokens, and says so with `unsupported_token_type` (§2.2.1). Once the refresh
/// token is revoked, that is the end of logout, not a failure to retry forever.
pub fn logout_accepts_unsupported_token_type_for_the_access_token(logout: Logout) {
    let endpoint = Scripted::start(vec![
        json_answer(200, "{}"),
        json_answer(
            400,
            r#"{"error":"unsupported_token_type","error_description":"access tokens are not revocable"}"#,
        ),
    ]);
    let tmp = TempDir::new("unsupported");
    let path = tmp.0.join("tokens.json");
    write_kept(
        &path,
        &Plain {
            access_token: "replica-at-7".into(),
            refresh_token: Some("replica-rt-7".into()),
            expires_at: Some(T),
            scope: None,
        },
    );
    let result = logout(&client_at(&endpoint.base), &path);
    assert!(
        result.is_ok(),
        "the refresh token was revoked and the server does not revoke access tokens \
         (unsupported_token_type): logout is done, got {result:?}"
    );
    assert_eq!(
        endpoint.received().len(),
        2,
        "the refresh token, then the access token"
    );
    assert!(
        !path.exists(),
        "delete the file: asking again could never succeed"
    );
}

/// RFC 7009 §2.2.1: a 503 may come with `Retry-After`; the error says when.
pub fn logout_after_a_503_says_when_to_try_again(logout: Logout) {
    let down: Canned = (503, vec![("Retry-After", "120".to_string())], String::new());
    let endpoint = Scripted::start(vec![down]);
    let tmp = TempDir::new("retry-later");
    let path = tmp.0.join("tokens.json");
    write_kept(
        &path,
        &kept(&tokens("replica-at-6", Some("replica-rt-6"), None), at(T)),
    );
    let error = logout(&client_at(&endpoint.base), &path)
        .expect_err("the revocation endpoint answered 503: logout failed");
    assert!(
        error.0.contains("120 s"),
        "say when the provider asks to be tried again (Retry-After: 120), got {:?}",
        error.0
    );
    assert!(path.exists(), "and keep the file for that second try");
}

pub fn logout_without_a_revocation_endpoint_deletes_and_says_so(logout: Logout) {
    let endpoint = Scripted::start(vec![json_answer(200, "{}")]);
    let mut client = client_at(&endpoint.base);
    client.revoke_url = None;
    let tmp = TempDir::new("no-revoke");
    let path = tmp.0.join("tokens.json");
    write_kept(&path, &kept(&tokens("lab_at_x", None, None), at(T)));
    let said = logout(&client, &path)
        .unwrap_or_else(|e| panic!("no revocation endpoint: still delete the file; got {}", e.0));
    assert!(!path.exists(), "delete the file");
    assert_count(
        endpoint.received().len(),
        0,
        "requests to the check's stand-in provider",
        "there is nowhere to send anything",
    );
    judge_logout_without_revocation(&said, &path);
    assert!(
        logout(&client, &path).is_ok(),
        "logging out twice is fine: nothing to do"
    );
}

pub type TokenFile = fn(&Path, &Client) -> Result<PathBuf, LabError>;
pub type LogoutFrom = fn(&Client, &Path) -> Result<String, LabError>;

/// The program's logout: tokens are only ever revoked at the provider, and
/// for the client, that issued them. Nothing saved for this provider and
/// client: say so, naming them, and revoke nothing (another's file stays).
pub fn logout_touches_only_this_providers_tokens(token_file: TokenFile, logout_from: LogoutFrom) {
    let p = provider();
    let first = issue(&p);
    let tmp = TempDir::new("logout-other");
    let client_a = client_for(&p);
    let file_a = token_file(&tmp.0, &client_a).unwrap_or_else(|e| panic!("{}", e.0));
    let saved = kept(&first, SystemTime::now());
    write_kept(&file_a, &saved);
    let endpoint = Scripted::start(vec![json_answer(200, "{}")]);
    let client_b = client_at(&endpoint.base);
    let said = logout_from(&client_b, &tmp.0)
        .unwrap_or_else(|e| panic!("nothing saved for this provider is no error: {}", e.0));
    assert_count(
        endpoint.received().len(),
        0,
        "requests to the check's stand-in provider",
        "nothing saved for this provider: send it nothing (certainly not another provider's tokens)",
    );
    assert!(
        said.contains("No saved tokens")
            && said.contains(&client_b.client_id)
            && said.contains(&client_b.token_url)
            && !said.contains("Revoked"),
        "say that nothing is saved for this client at this provider, naming both, and claim no revocation: {said}"
    );
    assert_eq!(read_kept(&file_a), saved, "another provider's file stays");
    assert_eq!(
        me_status(&p, &saved.access_token),
        200,
        "another provider's tokens stay valid"
    );
}

// ---- Secrets ----

pub fn nothing_secret_in_debug_or_the_file_name<S: Stored>(
    stored_from: StoredFrom<S>,
    cache_path: CachePath,
) {
    let (access, refresh) = ("lab_at_Zx81kQ2b9VbTqW", "lab_rt_Pq7sK3mN0aLzY");
    let s = stored_from(tokens(access, Some(refresh), Some(3600)), at(T));
    let debug = format!("{s:?}");
    for secret in [access, refresh] {
        assert!(
            !debug.contains(secret),
            "StoredTokens' Debug must not show a token whole (keep them as Secret): {debug}"
        );
    }
    let mut client = client_at("http://127.0.0.1:9000");
    client.client_secret = Some(Secret::new("l07-client-secret-Zq9"));
    let path = cache_path(&client).unwrap_or_else(|e| panic!("cache_path: {}", e.0));
    let shown = path.display().to_string();
    assert!(
        !shown.contains("l07-client-secret-Zq9"),
        "the file name is printed: never put the client secret in it ({shown})"
    );
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("tokens-") && name.ends_with(".json"),
        "tokens-….json, got {name}"
    );
    assert!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
        "only characters safe in any file name: {name}"
    );
    assert_eq!(
        path.parent().and_then(|d| d.file_name()),
        Some(std::ffi::OsStr::new("oauth2-lab")),
        "in the oauth2-lab folder of the configuration folder: {shown}"
    );
    let other_port = client_at("http://127.0.0.1:9001");
    let other_client = Client {
        client_id: "lab-public".into(),
        ..client.clone()
    };
    let other_path = Client {
        token_url: "http://127.0.0.1:9000/realms/other/token".into(),
        ..client.clone()
    };
    for (other, what) in [
        (other_port, "provider"),
        (other_client, "client"),
        (
            other_path,
            "token endpoint on the same host (another realm)",
        ),
    ] {
        assert_ne!(
            cache_path(&other).ok(),
            Some(path.clone()),
            "another {what}, another file: tokens of one must never be sent to another"
        );
    }
}

#[macro_export]
macro_rules! lesson07_suite {
    ($k:ident) => { $crate::lesson07_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            expires_at_is_absolute => $crate::lesson07::expires_at_is_absolute($k::stored_from);
            refreshes_60_seconds_before_expiry => $crate::lesson07::refreshes_60_seconds_before_expiry($k::needs_refresh);
            refresh_rotates_and_the_old_refresh_token_is_refused => $crate::lesson07::refresh_rotates_and_the_old_refresh_token_is_refused($k::refresh);
            refresh_without_a_refresh_token_sends_nothing => $crate::lesson07::refresh_without_a_refresh_token_sends_nothing($k::refresh);
            refresh_keeps_what_the_answer_leaves_out => $crate::lesson07::refresh_keeps_what_the_answer_leaves_out($k::refresh);
            an_expired_access_token_is_refused_and_a_refreshed_one_works => $crate::lesson07::an_expired_access_token_is_refused_and_a_refreshed_one_works($k::needs_refresh, $k::refresh);
            saves_0600_in_a_new_folder => $crate::lesson07::saves_0600_in_a_new_folder($k::save, $k::load);
            save_replaces_the_file_by_rename => $crate::lesson07::save_replaces_the_file_by_rename($k::save, $k::load);
            a_missing_or_garbled_file_loads_as_nothing => $crate::lesson07::a_missing_or_garbled_file_loads_as_nothing($k::save, $k::load);
            good_saved_tokens_are_used_without_network => $crate::lesson07::good_saved_tokens_are_used_without_network($k::valid_tokens);
            expiring_tokens_are_refreshed_and_saved => $crate::lesson07::expiring_tokens_are_refreshed_and_saved($k::valid_tokens);
            a_refused_refresh_token_means_asking_again => $crate::lesson07::a_refused_refresh_token_means_asking_again($k::valid_tokens);
            no_saved_tokens_means_asking_for_permission => $crate::lesson07::no_saved_tokens_means_asking_for_permission($k::valid_tokens);
            a_provider_outage_keeps_the_saved_tokens => $crate::lesson07::a_provider_outage_keeps_the_saved_tokens($k::valid_tokens);
            two_runs_at_once_refresh_only_once => $crate::lesson07::two_runs_at_once_refresh_only_once($k::lock_tokens, $k::valid_tokens);
            a_held_lock_times_out_and_a_stale_one_is_removed => $crate::lesson07::a_held_lock_times_out_and_a_stale_one_is_removed($k::lock_tokens);
            logout_revokes_both_tokens_and_deletes_the_file => $crate::lesson07::logout_revokes_both_tokens_and_deletes_the_file($k::logout);
            logout_sends_rfc7009_requests_refresh_token_first => $crate::lesson07::logout_sends_rfc7009_requests_refresh_token_first($k::logout);
            logout_keeps_the_file_when_the_provider_fails => $crate::lesson07::logout_keeps_the_file_when_the_provider_fails($k::logout);
            logout_without_a_revocation_endpoint_deletes_and_says_so => $crate::lesson07::logout_without_a_revocation_endpoint_deletes_and_says_so($k::logout);
            logout_accepts_unsupported_token_type_for_the_access_token => $crate::lesson07::logout_accepts_unsupported_token_type_for_the_access_token($k::logout);
            logout_after_a_503_says_when_to_try_again => $crate::lesson07::logout_after_a_503_says_when_to_try_again($k::logout);
            logout_touches_only_this_providers_tokens => $crate::lesson07::logout_touches_only_this_providers_tokens($k::token_file, $k::logout_from);
            nothing_secret_in_debug_or_the_file_name => $crate::lesson07::nothing_secret_in_debug_or_the_file_name($k::stored_from, $k::cache_path);
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
