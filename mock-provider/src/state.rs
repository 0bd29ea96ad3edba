//! The provider's shared state: its settings, its issuer identifier, what it
//! remembers and its trace, with the lookups every handler makes.

use std::sync::{Mutex, MutexGuard};

use crate::clock::millis;
use crate::config::Config;
use crate::secrets::same_secret;
use crate::store::Store;
use crate::trace::Trace;

pub(crate) struct App {
    pub config: Config,
    /// The base URL, also the issuer identifier (RFC 8414 §2, RFC 9207).
    pub issuer: String,
    store: Mutex<Store>,
    pub trace: Trace,
}

impl App {
    pub fn new(config: Config, issuer: String) -> Self {
        App {
            trace: Trace::new(config.trace),
            config,
            issuer,
            store: Mutex::new(Store::default()),
        }
    }

    /// The time now, in milliseconds since the epoch, from the injected clock.
    pub fn now(&self) -> u64 {
        millis(self.config.clock.as_ref())
    }

    /// The store, purged of what has expired. Handlers hold it only while they
    /// compute an answer, never while reading or writing a socket.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store.purge(self.now());
        store
    }

    pub fn client_index(&self, id: &str) -> Option<usize> {
        self.config.clients.iter().position(|c| c.id == id)
    }

    pub fn user_index(&self, username: &str) -> Option<usize> {
        self.config
            .users
            .iter()
            .position(|u| u.username == username)
    }

    /// The user these credentials log in, as at a login form (`/authorize`, `/device`).
    pub fn log_in(&self, username: &str, password: &str) -> Option<usize> {
        self.user_index(username)
            .filter(|u| same_secret(&self.config.users[*u].password, password))
    }
}
