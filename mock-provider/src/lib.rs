//! # mock-provider
//!
//! A strict, local OAuth 2.0 authorization server and resource server, for
//! learning and for testing clients. Every protocol rule lives in the module
//! named for its part of the RFCs. The modules stand in layers, listed here
//! from the bottom up: each imports only modules listed before it
//! (`tests/layers.rs` checks it), so none imports another in a circle.
//!
//! | module | what it holds; rules |
//! |---|---|
//! | `clock.rs` | time, injectable |
//! | `secrets.rs` | making, digesting and shortening secrets |
//! | `keys.rs` | the keys that sign ID tokens: RFC 7515 §7.1 (compact JWS), RFC 7517 §4–5 (JWK, JWK Set), RFC 7518 §3.4 (ES256), RFC 7638 (the `kid`); rotation |
//! | `params.rs` | strict decoding; RFC 6749 §3.1–3.2 (repeated and empty parameters) |
//! | `http.rs` | the HTTP/1.1 server: framing, limits and timeouts, never a 5xx for bad input |
//! | `owner.rs` | a simulated resource owner, a client of the pages |
//! | `config.rs` | clients, users, scopes, settings; RFC 6749 §3.3 (the default scope) |
//! | `data.rs` | each user's posts |
//! | `trace.rs` | one line per protocol step, and the events the inspector reads |
//! | `events_file.rs` | `--events-file`: the steps appended as JSON Lines, read back on start |
//! | `store.rs` | codes, grants and tokens, in bounded memory, capped in fair shares per party; RFC 8628 §5.1 (wrong user codes per slice) |
//! | `pages.rs` | the HTML pages and their contract |
//! | `class.rs` | `class-init`: a class's config file and handouts |
//! | `state.rs` | `App`: settings, issuer, store and trace, with their lookups |
//! | `endpoint.rs` | what endpoints share: RFC 6749 §2.3 (client authentication), §3.2 (form bodies), §5.1–5.2 (answers and errors) |
//! | `metadata.rs` | RFC 8414, RFC 8628 §4 |
//! | `authorize.rs` | RFC 6749 §3.1, §4.1.1–4.1.2; RFC 7636 §4.3–4.4; RFC 8252 §7.3; RFC 9207; OpenID Connect Core 1.0 §3.1.2.1 (`nonce`) |
//! | `resource.rs` | RFC 6750 §2.1, §3.1 |
//! | `oidc.rs` | OpenID Connect Discovery 1.0 §3–4; Core 1.0 §2 (ID token), §3.1.2.1 (`nonce`), §3.1.3.3, §5.3–5.4 (UserInfo, claims), §12.2 (refresh) |
//! | `revoke.rs` | RFC 7009 §2 |
//! | `device.rs` | RFC 8628 §3.1–3.5, §5.1, §6.1 (device authorization grant) |
//! | `token.rs` | RFC 6749 §4.1.3, §6; RFC 7636 §4.5–4.6; RFC 9700 §2.1.1, §4.5, §4.14; OpenID Connect Core 1.0 §3.1.3.3, §12.2 (the ID token in the answer) |
//! | `lab.rs` | the inspector, `/_lab` and `/_lab/events` |
//! | `router.rs` | RFC 9110 §7.2 (the Host check, 421); which path and method go to which endpoint; 404, 405; nosniff on every answer |
//! | `lib.rs` | `MockProvider`, and the public names re-exported |
//! | `main.rs` | the binary: flags and banner, through the library's public names |
//!
//! ```no_run
//! use mock_provider::{Config, MockProvider};
//! let provider = MockProvider::start(Config::default()).unwrap();
//! let url = format!(
//!     "{}/authorize?response_type=code&client_id=lab-client&redirect_uri={}&state=xyz",
//!     provider.base_url(),
//!     "http%3A%2F%2F127.0.0.1%3A8000%2Fcallback",
//! );
//! let redirect = provider.resource_owner("alice").approve(&url).unwrap();
//! assert!(redirect.param("code").is_some());
//! ```

mod authorize;
mod class;
mod clock;
mod config;
mod data;
mod device;
mod endpoint;
mod events_file;
pub mod http;
mod keys;
mod lab;
mod metadata;
mod oidc;
mod owner;
mod pages;
pub mod params;
mod resource;
mod revoke;
mod router;
mod secrets;
mod state;
mod store;
mod token;
mod trace;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;

pub use authorize::redirect_uri_matches;
pub use class::{ClassFiles, write_class};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    Class, Client, Config, DEFAULT_SCOPE, SCOPES, Student, TraceOutput, User, builtin_clients,
    builtin_users,
};
pub use data::Post;
pub use device::INTERVAL_SECS as DEVICE_INTERVAL_SECS;
pub use endpoint::DEVICE_GRANT_TYPE;
pub use keys::{ALG as ID_TOKEN_ALG, SigningKey};
pub use owner::{Decision, OwnerError, Redirect, ResourceOwner};
pub use pages::escape as escape_html;
pub use resource::{DEFAULT_LIMIT, MAX_LIMIT};
pub use secrets::{s256, shorten};
pub use store::{
    Counts, MAX_CODES, MAX_CODES_PER_PAIR, MAX_DEVICES, MAX_DEVICES_PER_CLIENT, MAX_GRANTS,
    MAX_GRANTS_PER_PAIR, MAX_PENDING, MAX_PENDING_PER_CLIENT, MAX_TOKENS, MAX_TOKENS_PER_GRANT,
    MAX_WRONG_USER_CODES_PER_SLICE, USER_CODE_SLICES,
};
pub use trace::Event;

/// Why a provider did not start; each message names the fix.
#[derive(Debug)]
pub enum StartError {
    PortInUse(u16),
    UnknownAutoApproveUser(String),
    /// `--listen` on an address other machines reach, without `--public-url`.
    PublicUrlMissing(SocketAddr),
    BadPublicUrl(String),
    EventsFile(String),
    Io(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::PortInUse(port) => write!(
                f,
                "port {port} is in use: stop the other program (perhaps another mock provider) or use --port 0"
            ),
            StartError::UnknownAutoApproveUser(name) => {
                write!(
                    f,
                    "--auto-approve {name}: no such user; use alice, bob, or a user from --config"
                )
            }
            StartError::PublicUrlMissing(addr) => write!(
                f,
                "--listen {addr} serves the network: add --public-url http://NAME:{port} (the address students type), or keep the default 127.0.0.1 and use SSH tunnels",
                port = addr.port()
            ),
            StartError::BadPublicUrl(url) => write!(
                f,
                "--public-url {url:?} is not a base URL: give scheme, host and port only, for example http://lab.school.example:9000"
            ),
            StartError::EventsFile(e) => write!(f, "{e}: fix the path or leave out --events-file"),
            StartError::Io(e) => write!(f, "cannot start the mock provider: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// `url` as an issuer: http(s), a host, no path, query or fragment; without
/// its trailing slash.
fn public_base(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    ok.then(|| parsed.origin().ascii_serialization())
}

/// A running provider on 127.0.0.1; it stops when dropped.
pub struct MockProvider {
    app: Arc<state::App>,
    server: http::Server,
}

impl MockProvider {
    /// Starts on 127.0.0.1 at `config.port` (0: a free port, for tests), or
    /// at `config.listen`.
    pub fn start(mut config: Config) -> Result<MockProvider, StartError> {
        // Class mode: the demo users, whose passwords are public, are gone, so
        // nobody logs in as them and every flow belongs to a student.
        if config.class.is_some() {
            config.users.retain(|u| !u.is_demo());
        }
        if let Some(name) = &config.auto_approve {
            if !config.users.iter().any(|u| &u.username == name) {
                return Err(StartError::UnknownAutoApproveUser(name.clone()));
            }
        }
        let public_url = match &config.public_url {
            Some(url) => {
                Some(public_base(url).ok_or_else(|| StartError::BadPublicUrl(url.clone()))?)
            }
            None => None,
        };
        let bind = config
            .listen
            .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)));
        let loopback = match bind.ip() {
            IpAddr::V4(ip) => ip.is_loopback(),
            IpAddr::V6(ip) => ip.is_loopback(),
        };
        if !loopback && public_url.is_none() {
            return Err(StartError::PublicUrlMissing(bind));
        }
        let listener = TcpListener::bind(bind).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                StartError::PortInUse(bind.port())
            } else {
                StartError::Io(e)
            }
        })?;
        let addr = listener.local_addr().map_err(StartError::Io)?;
        let issuer = public_url.unwrap_or_else(|| {
            if loopback {
                format!("http://{addr}")
            } else {
                format!("http://127.0.0.1:{}", addr.port())
            }
        });
        let (trace, last_flow) = match &config.events_file {
            Some(path) => {
                let (file, earlier) = events_file::open(path).map_err(StartError::EventsFile)?;
                (
                    trace::Trace::with_file(config.trace, file, earlier.events, earlier.last_seq),
                    earlier.last_flow,
                )
            }
            None => (trace::Trace::new(config.trace), 0),
        };
        let limits = config.limits.clone();
        let app = Arc::new(state::App::new(config, issuer, addr.port(), trace));
        app.store().number_flows_after(last_flow);
        let server = http::Server::start(listener, limits, app.clone()).map_err(StartError::Io)?;
        Ok(MockProvider { app, server })
    }

    /// `http://127.0.0.1:PORT` (or the `--public-url`), also the issuer identifier.
    pub fn base_url(&self) -> &str {
        &self.app.issuer
    }

    /// The issuer identifier (RFC 8414 §2, OpenID Connect Discovery 1.0 §3):
    /// the `iss` of its ID tokens, byte for byte; the same as [`Self::base_url`].
    pub fn issuer(&self) -> &str {
        &self.app.issuer
    }

    /// The JWK Set now, as `GET /.well-known/jwks.json` answers it:
    /// `{"keys": [...]}`, the signing key first, then (after a rotation) the
    /// previous one. With [`Config::rotate_keys`], moving the injected clock
    /// past a period makes a new key at the next use.
    pub fn jwks(&self) -> serde_json::Value {
        self.app.jwks()
    }

    /// Rotates the signing key now, whatever the clock says: a new key signs
    /// from now on, the previous one stays in the JWK Set until the next
    /// rotation. Returns the new key's `kid`.
    pub fn rotate_keys(&self) -> String {
        self.app.rotate_keys()
    }

    /// Signs any claims with the provider's current key, as an ID token is
    /// signed: for suites that need a well-signed token with a wrong claim
    /// (another `aud`, an old `exp`), as if the key had leaked.
    pub fn sign_id_token(&self, claims: &serde_json::Value) -> String {
        self.app.signing_key().sign(claims)
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// The protocol steps recorded so far (the same as `GET /_lab/events`).
    pub fn events(&self) -> Vec<Event> {
        self.app.trace.since(0)
    }

    /// How many codes, grants and tokens are held now (after purging what expired).
    pub fn counts(&self) -> Counts {
        self.app.store().counts()
    }

    /// A simulated person who logs in as `username` (a registered user).
    pub fn resource_owner(&self, username: &str) -> ResourceOwner {
        let user = self
            .app
            .config
            .users
            .iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no user {username:?} is registered"));
        ResourceOwner::new(&user.username, &user.password)
    }

    /// Serves until the process ends.
    pub fn wait(self) {
        let MockProvider { app: _app, server } = self;
        server.join();
    }
}
