//! Lesson 07, one step further: the token answer kept in the operating
//! system's credential store (macOS Keychain, Windows Credential Manager, the
//! Linux kernel keyring) instead of a 0600 file.
//!
//! The store encrypts at rest and asks the system, not file modes, who may
//! read; nothing lands in a backup or a synced folder. The price: one more
//! crate ([`keyring`]), and on Linux the kernel keyring forgets at logout
//! (build `keyring` with `sync-secret-service` instead to use GNOME Keyring or
//! KWallet, which needs the D-Bus library).

use keyring::Entry;

/// The store's name for this program's entries.
pub const SERVICE: &str = "oauth2-lab";

// ANCHOR: store
/// The entry for one provider and client: the same key lesson 07 names its
/// token file after (`token_file`), so two providers never share tokens.
pub fn entry(key: &str) -> keyring::Result<Entry> {
    Entry::new(SERVICE, key)
}

/// Saves the tokens (lesson 07's JSON) in the store, replacing what was there.
pub fn save(entry: &Entry, tokens: &serde_json::Value) -> keyring::Result<()> {
    entry.set_password(&tokens.to_string())
}

/// The saved tokens, or `None` when there are none or they make no sense
/// (then the program asks for permission again, as with a garbled file).
pub fn load(entry: &Entry) -> keyring::Result<Option<serde_json::Value>> {
    match entry.get_password() {
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Forgets the tokens, after logout has revoked them. Nothing saved is fine.
pub fn delete(entry: &Entry) -> keyring::Result<()> {
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(e),
    }
}
// ANCHOR_END: store
