//! The provider's shared state: its settings, its issuer identifier, what it
//! remembers and its trace, with the lookups every handler makes.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::millis;
use crate::config::Config;
use crate::keys::{KeySet, SigningKey};
use crate::secrets::{same_secret, shorten};
use crate::store::Store;
use crate::trace::Trace;

pub(crate) struct App {
    pub config: Config,
    /// The base URL, also the issuer identifier (RFC 8414 §2, RFC 9207).
    pub issuer: String,
    store: Mutex<Store>,
    pub trace: Trace,
    /// The keys that sign ID tokens, rotated by the injected clock.
    keys: Mutex<KeySet>,
    /// See [`App::own_hosts`].
    own_hosts: Vec<String>,
    /// How many of `own_hosts` are compared whole, port and all (the
    /// loopback names and the public URL's); the rest are `--allow-host` names.
    exact_hosts: usize,
}

/// The provider listens on loopback only; these name it (RFC 9110 §7.2).
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

impl App {
    /// The names this provider answers to, as the refusal lists them: its
    /// loopback names with its port, then the `--allow-host` names.
    pub fn own_hosts(&self) -> &[String] {
        &self.own_hosts
    }

    /// True when `host` (a Host header) names this provider: a loopback name
    /// with its own port, the `--public-url` host with its port, or a name
    /// from `--allow-host` with any port (a proxy or tunnel in front may
    /// listen on another).
    pub fn is_own_host(&self, host: &str) -> bool {
        let host = host.trim();
        let name = match host.strip_prefix('[') {
            Some(_) => host.split_inclusive(']').next().unwrap_or(host),
            None => host.split(':').next().unwrap_or(host),
        };
        self.own_hosts[..self.exact_hosts]
            .iter()
            .any(|own| own.eq_ignore_ascii_case(host))
            || self
                .config
                .allowed_hosts
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }

    /// A typed username as the trace may show it: whole when it is a
    /// registered user's, shortened like a secret otherwise (it may be a
    /// password typed into the wrong box).
    pub fn shown_username(&self, typed: &str) -> String {
        match self.user_index(typed) {
            Some(_) => typed.to_string(),
            None => shorten(typed),
        }
    }

    /// `port` is the port the provider listens on; `issuer` its loopback
    /// URL, or the `--public-url`.
    pub fn new(config: Config, issuer: String, port: u16, trace: Trace) -> Self {
        let mut own_hosts: Vec<String> = LOOPBACK_NAMES
            .iter()
            .map(|name| format!("{name}:{port}"))
            .collect();
        // The public URL's host, with its port; a browser leaves out a
        // scheme's default port, so the bare name too then.
        if let Some(public) = config
            .public_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
        {
            if let Some(host) = public.host_str() {
                let host = host.to_ascii_lowercase();
                if let Some(port) = public.port_or_known_default() {
                    own_hosts.push(format!("{host}:{port}"));
                }
                if public.port().is_none() {
                    own_hosts.push(host);
                }
            }
        }
        let exact_hosts = own_hosts.len();
        own_hosts.extend(config.allowed_hosts.iter().cloned());
        let now = millis(config.clock.as_ref());
        let every = config.rotate_keys.map(|d| d.as_millis() as u64);
        App {
            keys: Mutex::new(KeySet::new(now, every)),
            own_hosts,
            exact_hosts,
            trace,
            config,
            issuer,
            store: Mutex::new(Store::default()),
        }
    }

    /// The time now, in milliseconds since the epoch, from the injected clock.
    pub fn now(&self) -> u64 {
        millis(self.config.clock.as_ref())
    }

    fn keys(&self) -> MutexGuard<'_, KeySet> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The key that signs ID tokens now (a new one each `rotate_keys` period).
    pub fn signing_key(&self) -> Arc<SigningKey> {
        let now = self.now();
        self.keys().current(now)
    }

    /// The JWK Set now: the signing key, then the previous one if any.
    pub fn jwks(&self) -> serde_json::Value {
        let now = self.now();
        self.keys().jwks(now)
    }

    /// A new signing key now, whatever the period; returns its `kid`.
    pub fn rotate_keys(&self) -> String {
        self.keys().rotate()
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
