//! Given with this lesson: what the steps use but is not their skill: where
//! the token file lives, reading it back, one revocation request (RFC 7009),
//! and an expiry in words.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use labkit::{Client, ErrorBody, LabError, Secret};

use crate::{StoredTokens, basic_auth, unix_seconds};

// ANCHOR: cache_path
/// Where a client keeps its tokens: `oauth2-lab/tokens-<provider>-<client>.json`
/// in the user's configuration folder. One file per token endpoint and client,
/// so tokens of one provider are never sent to another.
pub fn cache_path(client: &Client) -> Result<PathBuf, LabError> {
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
        .take(120)
        .collect();
    Ok(config_dir()?
        .join("oauth2-lab")
        .join(format!("tokens-{name}.json")))
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
            "cannot tell where your configuration folder is (HOME is not set): give the token file with --cache FILE".into(),
        )
    })
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
/// which is as good: §2.2).
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
    Err(LabError(format!(
        "the provider did not revoke the {} (HTTP {status}: {reason}): {kept}",
        hint.replace('_', " ")
    )))
}
// ANCHOR_END: revoke
