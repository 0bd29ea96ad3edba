//! Given with this lesson: what the steps use but is not their skill: where
//! the token file lives, a lock so that two runs do not refresh at once,
//! reading the file back, one revocation request (RFC 7009), an expiry in
//! words, and the program's logout of one provider and client.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use labkit::{Client, ErrorBody, LabError, Secret};

use crate::{StoredTokens, basic_auth, unix_seconds};

// ANCHOR: cache_path
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
    config_dir_on(std::env::consts::OS, var).ok_or_else(|| {
        LabError(
            "cannot tell where your configuration folder is (HOME is not set): give a folder for the token files with --cache FOLDER".into(),
        )
    })
}

/// [`config_dir`] for the system `os`, reading variables with `var`. On
/// Windows the local folder, never `%APPDATA%`: that one roams, copied to
/// other machines with the profile, and tokens must not travel.
fn config_dir_on(os: &str, var: impl Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    match os {
        "windows" => var("LOCALAPPDATA"),
        "macos" => var("HOME").map(|home| home.join("Library/Application Support")),
        _ => var("XDG_CONFIG_HOME").or_else(|| var("HOME").map(|home| home.join(".config"))),
    }
}
// ANCHOR_END: cache_path

// ANCHOR: load
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
// ANCHOR_END: load

// ANCHOR: revoke
/// One RFC 7009 §2.1 request: `token` and `token_type_hint`, with client
/// authentication as at the token endpoint. 200 means revoked (or unknown,
/// which is as good: §2.2). A server need not revoke access tokens (§2: only
/// a SHOULD): its `unsupported_token_type` (§2.2.1) for an access token is
/// accepted, with a note, since asking again can never succeed.
pub(crate) fn revoke(
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
    if reason == "unsupported_token_type" && hint == "access_token" {
        eprintln!(
            "Note: {revoke_url} does not revoke access tokens (unsupported_token_type, RFC 7009 §2.2.1): the access token stays valid until it expires"
        );
        return Ok(());
    }
    // A 503 may say when to try again (RFC 7009 §2.2.1, RFC 9110 §10.2.3).
    let wait = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| labkit::retry_after(v, std::time::SystemTime::now()))
        .map(|d| format!(" in {} s, as it asks", d.as_secs()))
        .unwrap_or_default();
    Err(LabError(format!(
        "the provider did not revoke the {} (HTTP {status}: {reason}): {kept}{wait}",
        hint.replace('_', " ")
    )))
}
// ANCHOR_END: revoke

// ANCHOR: lock
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
// ANCHOR_END: lock

// ANCHOR: logout_from
/// The program's `logout`: only the token file of this provider and client in
/// `dir`. With none, it says so, naming them, and revokes nothing.
pub fn logout_from(client: &Client, dir: &Path) -> Result<String, LabError> {
    let path = token_file(dir, client)?;
    if fs::symlink_metadata(&path).is_err() {
        return Ok(format!(
            "No saved tokens for client {:?} at {} (no {}): nothing was revoked. To log out of another provider or client, give its --authorize-url, --token-url, --revoke-url and --client-id",
            client.client_id,
            client.token_url,
            path.display()
        ));
    }
    crate::logout(client, &path)
}
// ANCHOR_END: logout_from

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_files_stay_on_this_machine() {
        let var = |name: &str| match name {
            "APPDATA" => Some(PathBuf::from(r"C:\Users\alice\AppData\Roaming")),
            "LOCALAPPDATA" => Some(PathBuf::from(r"C:\Users\alice\AppData\Local")),
            "HOME" => Some(PathBuf::from("/home/alice")),
            _ => None,
        };
        assert_eq!(
            config_dir_on("windows", var),
            Some(PathBuf::from(r"C:\Users\alice\AppData\Local")),
            "%APPDATA% roams to other machines: use %LOCALAPPDATA%"
        );
        assert_eq!(
            config_dir_on("linux", var),
            Some(PathBuf::from("/home/alice/.config"))
        );
        assert_eq!(
            config_dir_on("macos", var),
            Some(PathBuf::from("/home/alice/Library/Application Support"))
        );
    }
}
