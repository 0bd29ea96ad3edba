//! Lessons 01–07, finished: what this lesson keeps. The listener and the
//! token file stay the program's own; the protocol code of lessons 03–07 (the
//! authorization URL, PKCE, the token requests, refresh, revocation) is gone:
//! the `oauth2` crate does it now.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use labkit::{CallbackError, Client, ErrorBody, LabError, Secret, Tokens};
use serde::{Deserialize, Serialize};

/// Lesson 01: the query string's pairs, decoded, in order, repeats kept.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Lesson 03: waits on `/callback` for the browser to come back with our `state`,
/// and returns the code. Other paths get 404, a wrong state gets an error page,
/// and neither ends the wait; an error from the provider (such as
/// `access_denied`) ends it; so does an answer from another issuer than `iss`
/// (when the provider sends one, RFC 9207), and the deadline.
pub fn wait_for_callback(
    server: &labkit::Listener,
    state: &str,
    iss: Option<&str>,
    deadline: Instant,
) -> Result<Secret, CallbackError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let request = match server.recv_timeout(left) {
            Ok(Some(request)) => request,
            Ok(None) => return Err(CallbackError::TimedOut),
            Err(e) => return Err(CallbackError::Listener(e.to_string())),
        };
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        if path != "/callback" {
            // The browser also asks for /favicon.ico; port scanners ask for anything.
            let _ = request.respond(labkit::page(
                404,
                "Not here",
                "This program only answers on /callback.",
            ));
            continue;
        }
        let pairs = query_pairs(query);
        // A parameter counts only if it comes exactly once.
        let get = |name: &str| {
            let mut values = pairs
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str());
            match (values.next(), values.next()) {
                (Some(v), None) => Some(v),
                _ => None,
            }
        };
        // Check the state before anything else: an answer with another state is
        // not for us (an attacker's, or an old tab's), even if it says "error".
        if get("state") != Some(state) {
            let _ = request.respond(labkit::page(
                400,
                "Not for this program",
                "This answer does not match the request this program made (wrong state), so it was ignored.",
            ));
            continue;
        }
        // Our state, so the answer is for us; but is it from the provider we
        // asked? One that names itself in every answer (RFC 9207) must name
        // itself here too, byte for byte: else another provider's answer, or
        // an attacker's code, reached us (a mix-up), and we stop before its
        // code goes anywhere (RFC 9207 §2.4).
        if let Some(expected) = iss {
            let got = get("iss");
            if got != Some(expected) {
                let _ = request.respond(labkit::page(
                    400,
                    "Answer from another provider",
                    "This answer does not come from the provider this program asked (its iss is wrong or missing), so its code was not used and the program stops. You can close this tab.",
                ));
                return Err(CallbackError::MixUp {
                    expected: expected.to_string(),
                    got: got.map(str::to_string),
                });
            }
        }
        if let Some(error) = get("error") {
            let description = get("error_description").map(str::to_string);
            let page = if error == "access_denied" {
                labkit::notice(
                    "No permission given",
                    "You did not allow access, so the program gets nothing and stops. You can close this tab.",
                )
            } else {
                labkit::notice(
                    "The provider refused the request",
                    &format!(
                        "The provider answered with the error {error:?}. The program stops and says why."
                    ),
                )
            };
            let _ = request.respond(page);
            return Err(match error {
                "access_denied" => CallbackError::Denied { description },
                other => CallbackError::Provider {
                    error: other.to_string(),
                    description,
                },
            });
        }
        let Some(code) = get("code") else {
            let _ = request.respond(labkit::page(
                400,
                "No code",
                "This answer has no code, so it was ignored.",
            ));
            continue;
        };
        // The page must not show the code: it would end up in screenshots and history.
        let _ = request.respond(labkit::page(
            200,
            "Permission received",
            "The program now trades the one-time code for an access token and reads only what you allowed. It never saw your password. You can close this tab.",
        ));
        return Ok(Secret::new(code));
    }
}

/// Lesson 06: binds the redirect listener on 127.0.0.1 and returns it with the
/// redirect URI that names the port it really got. Port 0 asks the system for
/// any free port (RFC 8252 §7.3: the provider accepts any port on loopback).
pub fn bind_loopback(port: u16) -> Result<(labkit::Listener, String), LabError> {
    // 127.0.0.1, not 0.0.0.0: nobody else on the network may call it. And the
    // IP literal, not "localhost", which could resolve elsewhere (RFC 8252 §8.3).
    let server = labkit::listen(port)?;
    // With port 0 the real port is known only now: read it back.
    let port = labkit::port_of(&server);
    Ok((server, format!("http://127.0.0.1:{port}/callback")))
}

/// Tokens as kept between runs: an absolute expiry, not "expires_in".
///
/// `Debug` shows no token (each is a [`Secret`]); the file holds them whole,
/// which is why it is readable by its owner only.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredTokens {
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// When the access token expires, in Unix seconds; `None` if the provider did not say.
    #[serde(default)]
    pub expires_at: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// Refresh this long before the access token expires, so that it does not
/// expire between the check and the API call (clocks differ, requests take time).
pub const REFRESH_EARLY: Duration = Duration::from_secs(60);

/// Seconds since 1970: the unit of `expires_at`.
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Lesson 07: the tokens of a token response as kept between runs: `expires_in`
/// (seconds from when the answer came) becomes `expires_at` (a point in time).
pub fn stored_from(tokens: Tokens, now: SystemTime) -> StoredTokens {
    // "3600" means nothing tomorrow; "until 14:05 UTC" still does.
    let expires_at = tokens
        .expires_in
        .map(|seconds| unix_seconds(now).saturating_add(seconds));
    StoredTokens {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at,
        scope: tokens.scope,
    }
}

/// Lesson 07: true when the access token expires within [`REFRESH_EARLY`]. A
/// token without a known expiry is used until the API refuses it.
pub fn needs_refresh(stored: &StoredTokens, now: SystemTime) -> bool {
    match stored.expires_at {
        Some(expires_at) => unix_seconds(now).saturating_add(REFRESH_EARLY.as_secs()) >= expires_at,
        None => false,
    }
}

/// Lesson 07: writes the tokens to `path` so that only the user can read them,
/// and so that a crash leaves the old file or the new one, never half of one.
pub fn save(path: &Path, stored: &StoredTokens) -> Result<(), LabError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut folder = fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // A new file next to the real one (a rename works only within one file system).
    let mut random = [0u8; 6];
    getrandom::getrandom(&mut random).expect("the operating system has no random source");
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let temp = dir.join(format!(".{file_name}.{hex}.tmp"));
    let mut options = fs::OpenOptions::new();
    // create_new: never write through a file (or link) someone else put there.
    options.write(true).create_new(true);
    // 0600 from the start: never a moment when others could read it.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(&serde_json::to_vec_pretty(stored)?)?;
        // On the disk before the rename, or a crash could leave an empty file.
        file.sync_all()
    });
    // The rename swaps the whole file at once: a reader sees old or new.
    match written.and_then(|()| fs::rename(&temp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(LabError(format!(
                "cannot save the tokens to {}: {e}",
                path.display()
            )))
        }
    }
}

/// Where a client keeps its tokens: `tokens-<provider>-<client>-<hash>.json` in
/// `dir`. The name comes from the token endpoint and the client id, never from
/// the user, so tokens are only ever used, refreshed or revoked with the
/// provider and client that issued them. The hash covers the whole token URL:
/// two providers on one host (two realms, say) get two files.
pub fn token_file(dir: &Path, client: &Client) -> Result<PathBuf, LabError> {
    let url = url::Url::parse(&client.token_url)
        .map_err(|e| format!("--token-url {:?} is not a URL: {e}", client.token_url))?;
    let host = url.host_str().unwrap_or("no-host");
    let port = url.port_or_known_default().unwrap_or(0);
    // Only characters that are safe in a file name on every system.
    let name: String = format!("{host}-{port}-{}", client.client_id)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    // FNV-1a: a short, stable tag of the exact token URL and client id.
    let hash = format!("{}\n{}", client.token_url, client.client_id)
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
    Ok(dir.join(format!("tokens-{name}-{hash:08x}.json")))
}

/// The token file in the default folder: `oauth2-lab` in the user's
/// configuration folder.
pub fn cache_path(client: &Client) -> Result<PathBuf, LabError> {
    token_file(&default_cache_dir()?, client)
}

/// `oauth2-lab` in the user's configuration folder.
pub fn default_cache_dir() -> Result<PathBuf, LabError> {
    Ok(config_dir()?.join("oauth2-lab"))
}

/// The user's configuration folder, as each system names it.
fn config_dir() -> Result<PathBuf, LabError> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let dir = if cfg!(windows) {
        var("APPDATA")
    } else if cfg!(target_os = "macos") {
        var("HOME").map(|home| home.join("Library/Application Support"))
    } else {
        var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|home| home.join(".config")))
    };
    dir.ok_or_else(|| {
        LabError(
            "cannot tell where your configuration folder is (HOME is not set): give a folder for the token files with --cache FOLDER".into(),
        )
    })
}

/// The tokens saved at `path`: `None` when there are none, or when the file
/// cannot be read or makes no sense (a note says so; the program then simply
/// asks for permission again).
pub fn load(path: &Path) -> Result<Option<StoredTokens>, LabError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            eprintln!(
                "note: cannot read the saved tokens in {} ({e}): ignoring them",
                path.display()
            );
            return Ok(None);
        }
    };
    match serde_json::from_str(&text) {
        Ok(stored) => Ok(Some(stored)),
        // Only the position: serde's message may quote the file, tokens and all.
        Err(e) => {
            eprintln!(
                "note: the saved tokens in {} are garbled (line {}, column {}): ignoring them",
                path.display(),
                e.line(),
                e.column()
            );
            Ok(None)
        }
    }
}

/// How long the access token has left, in words: "expires in 59 min".
pub fn expiry_in_words(stored: &StoredTokens, now: SystemTime) -> String {
    let Some(at) = stored.expires_at else {
        return "has no expiry given".into();
    };
    match at.saturating_sub(unix_seconds(now)) {
        0 => "has expired".into(),
        left @ 1..120 => format!("expires in {left} s"),
        left => format!("expires in {} min", left / 60),
    }
}

/// Lesson 07's `revoke`: one RFC 7009 §2.1 request: `token` and `token_type_hint`, with client
/// authentication as at the token endpoint. 200 means revoked (or unknown,
/// which is as good: §2.2).
pub fn revoke_by_hand(
    client: &Client,
    revoke_url: &str,
    token: &Secret,
    hint: &str,
) -> Result<(), LabError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut form = vec![("token", token.expose()), ("token_type_hint", hint)];
    let mut request = agent.post(revoke_url).header("Accept", "application/json");
    match &client.client_secret {
        Some(secret) => {
            request = request.header(
                "Authorization",
                &basic_auth(&client.client_id, secret.expose()),
            );
        }
        None => form.push(("client_id", &client.client_id)),
    }
    let kept = "the saved tokens were kept, so you can try again";
    let mut response = request
        .send_form(form)
        .map_err(|e| format!("could not reach {revoke_url} ({e}): {kept}"))?;
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(());
    }
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let reason = serde_json::from_str::<ErrorBody>(&body)
        .map(|e| e.error)
        .unwrap_or_else(|_| labkit::body_start(&body));
    Err(LabError(format!(
        "the provider did not revoke the {} (HTTP {status}: {reason}): {kept}",
        hint.replace('_', " ")
    )))
}

/// `Basic base64(client_id ":" client_secret)`, each part form-encoded first, as
/// RFC 6749 §2.3.1 asks (a secret may contain `:`).
pub(crate) fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

/// Lesson 07's program: the lock around load, refresh and save.
/// How often a run that waits for the lock looks again.
pub const LOCK_POLL: Duration = Duration::from_millis(100);

/// Holds `<token file>.lock` while a run reads, refreshes and saves the tokens;
/// removing the lock file when dropped, however the run ends (short of a crash).
#[derive(Debug)]
pub struct TokenLock(PathBuf);

impl Drop for TokenLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Takes the lock of the token file at `path`, waiting while another run holds
/// it (up to `patience`; `sleep` waits one [`LOCK_POLL`]). Without it, two runs
/// could refresh with the same refresh token: with rotation the provider sees
/// it used twice and ends the grant (RFC 9700 §4.14.2), and a run saves dead
/// tokens. After the wait, the run reads the file again and finds the tokens
/// the other run saved. A lock older than `patience` plus a minute was left by
/// a run that crashed: it is removed.
pub fn lock_tokens(
    path: &Path,
    patience: Duration,
    sleep: &mut dyn FnMut(Duration),
) -> Result<TokenLock, LabError> {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    let lock = PathBuf::from(lock);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let mut folder = fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut waited = Duration::ZERO;
    loop {
        // create_new: of two runs, exactly one creates the file.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut file) => {
                let _ = writeln!(file, "{}", std::process::id());
                return Ok(TokenLock(lock));
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(LabError(format!("cannot create {}: {e}", lock.display()))),
        }
        let age = fs::metadata(&lock)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| SystemTime::now().duration_since(at).ok());
        if age.is_some_and(|age| age > patience + Duration::from_secs(60)) {
            eprintln!(
                "note: removing {}, left behind by a run that did not finish",
                lock.display()
            );
            let _ = fs::remove_file(&lock);
            continue;
        }
        if waited >= patience {
            return Err(LabError(format!(
                "another run is still using {} after {} s: let it finish, or delete {} if no other run is going",
                path.display(),
                waited.as_secs(),
                lock.display()
            )));
        }
        if waited.is_zero() {
            println!("Another run is using {}: waiting", path.display());
        }
        sleep(LOCK_POLL);
        waited += LOCK_POLL;
    }
}
