//! Lesson 07 — Tokens that last: the reference answer.
//!
//! Asking alice for permission every time the program runs would be a chore,
//! and an access token lives only an hour. So the program keeps its tokens in
//! a file only alice can read, refreshes the access token a minute before it
//! expires (RFC 6749 §6), asks again only when the refresh token no longer
//! works, and on logout tells the provider to forget them (RFC 7009).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use labkit::{Client, ErrorCode, LabError, Secret, TokenError, Tokens};
use serde::{Deserialize, Serialize};

mod earlier;
mod given;
pub use earlier::*;
pub use given::*;

// ANCHOR: stored_tokens
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
// ANCHOR_END: stored_tokens

// ANCHOR: stored_from
/// Step 1: the tokens of a token response as kept between runs: `expires_in`
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
// ANCHOR_END: stored_from

// ANCHOR: needs_refresh
/// Step 2: true when the access token expires within [`REFRESH_EARLY`]. A
/// token without a known expiry is used until the API refuses it.
pub fn needs_refresh(stored: &StoredTokens, now: SystemTime) -> bool {
    match stored.expires_at {
        Some(expires_at) => unix_seconds(now).saturating_add(REFRESH_EARLY.as_secs()) >= expires_at,
        None => false,
    }
}
// ANCHOR_END: needs_refresh

// ANCHOR: refresh
/// Step 3: new tokens for old, with the refresh token grant (RFC 6749 §6).
pub fn refresh(
    client: &Client,
    stored: &StoredTokens,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    let Some(refresh_token) = &stored.refresh_token else {
        // Nothing to send: the provider never said no, there is just no way to ask.
        return Err(TokenError::NoRefreshToken);
    };
    // No scope: leaving it out asks for the same scope as before (§6).
    let tokens = token_request(
        client,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ],
    )?;
    let mut fresh = stored_from(tokens, now);
    // Rotation (RFC 9700 §4.14): a new refresh token replaces the old one, which
    // the provider now refuses. No new one in the answer: the old one stays good.
    if fresh.refresh_token.is_none() {
        fresh.refresh_token = Some(refresh_token.clone());
    }
    // §5.1: a provider may leave out the scope when it is the one granted before.
    if fresh.scope.is_none() {
        fresh.scope = stored.scope.clone();
    }
    Ok(fresh)
}
// ANCHOR_END: refresh

// ANCHOR: save
/// Step 4: writes the tokens to `path` so that only the user can read them,
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
// ANCHOR_END: save

// ANCHOR: valid_tokens
/// Step 5: tokens that work now: the saved ones while they last, refreshed a
/// minute before they expire (or, if that fails while they still work, used
/// with a warning), and new ones from `authorize` (the browser flow) when there
/// are none, no refresh token, or the provider no longer honours it.
pub fn valid_tokens(
    client: &Client,
    path: &Path,
    now: SystemTime,
    authorize: &mut dyn FnMut() -> Result<Tokens, LabError>,
) -> Result<StoredTokens, LabError> {
    if let Some(stored) = load(path)? {
        if !needs_refresh(&stored, now) {
            // No network at all: that is the point of keeping them.
            println!(
                "Using saved tokens (the access token {})",
                expiry_in_words(&stored, now)
            );
            return Ok(stored);
        }
        if stored.refresh_token.is_none() {
            // Nothing to refresh with: the provider never gave a refresh token.
            println!(
                "The saved access token {} and there is no refresh token: signing in again",
                expiry_in_words(&stored, now)
            );
        } else {
            println!(
                "The saved access token {}: refreshing it",
                expiry_in_words(&stored, now)
            );
            match refresh(client, &stored, now) {
                Ok(fresh) => {
                    // Save at once: the old refresh token may be dead already (rotation).
                    save(path, &fresh)?;
                    println!(
                        "Refreshed: the new access token {}",
                        expiry_in_words(&fresh, now)
                    );
                    return Ok(fresh);
                }
                // The grant is over (revoked, expired, rotated out): ask again.
                Err(TokenError::Rejected {
                    code: ErrorCode::InvalidGrant,
                    description,
                    ..
                }) => println!(
                    "The provider no longer accepts the refresh token ({}): asking for permission again",
                    description.as_deref().unwrap_or("invalid_grant")
                ),
                // Any other failure (the provider is down…) is no reason to throw
                // away tokens that may work again later. Within the early minute
                // the access token still works: use it, with a warning.
                Err(e) if stored.expires_at.is_some_and(|at| unix_seconds(now) < at) => {
                    println!(
                        "warning: could not refresh ({e}); using the saved access token, which {}",
                        expiry_in_words(&stored, now)
                    );
                    return Ok(stored);
                }
                // Expired: there is nothing to use; stop and say why.
                Err(e) => return Err(e.into()),
            }
        }
    }
    let stored = stored_from(authorize()?, now);
    save(path, &stored)?;
    println!("Saved the tokens to {}", path.display());
    Ok(stored)
}
// ANCHOR_END: valid_tokens

// ANCHOR: logout
/// Step 6: logs out: asks the provider to revoke the tokens (RFC 7009), then
/// deletes the file. Returns what was done, in words.
pub fn logout(client: &Client, path: &Path) -> Result<String, LabError> {
    let Some(stored) = load(path)? else {
        // A garbled file holds nothing usable, but may hold a token: delete it too.
        let _ = fs::remove_file(path);
        return Ok(format!(
            "No saved tokens in {}: nothing to do",
            path.display()
        ));
    };
    let Some(revoke_url) = &client.revoke_url else {
        fs::remove_file(path)?;
        return Ok(format!(
            "Deleted {}. This provider has no revocation endpoint, so it was not told: the tokens stay valid until they expire (revoke the app's access in your account settings there)",
            path.display()
        ));
    };
    // The refresh token first: revoking it ends the whole grant (RFC 7009 §2.1),
    // then the access token, for providers that do not end both together.
    let mut revoked = Vec::new();
    if let Some(refresh_token) = &stored.refresh_token {
        revoke(client, revoke_url, refresh_token, "refresh_token")?;
        revoked.push("refresh token");
    }
    revoke(client, revoke_url, &stored.access_token, "access_token")?;
    revoked.push("access token");
    // Deleted only now: had the provider not answered, the file keeps the
    // tokens so that a second try can still revoke them.
    fs::remove_file(path)?;
    Ok(format!(
        "Revoked the {} at {revoke_url} and deleted {}",
        revoked.join(" and the "),
        path.display()
    ))
}

// ANCHOR_END: logout
