//! Registrations (clients, users) and settings.
//!
//! The built-in ones are part of the public contract (the mock provider appendix
//! lists them): the book, the lessons and outside tools rely on `lab-client`,
//! `lab-public`, `alice` and `bob`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::clock::{Clock, SystemClock};

/// The scopes the resource server knows, with the words the consent page uses.
/// `openid` asks for an ID token (OpenID Connect Core 1.0 §3.1.2.1); `email`
/// adds the email claims to it and to `/userinfo` (§5.4).
pub const SCOPES: &[(&str, &str)] = &[
    (
        "openid",
        "Know who you are: sign you in with your account here",
    ),
    ("profile", "See your name, username and email address"),
    ("email", "See your email address"),
    ("posts:read", "Read your private posts"),
];

/// Scope granted when a request names none (RFC 6749 §3.3 lets the server pick and document one).
pub const DEFAULT_SCOPE: &str = "profile";

/// A set of known scopes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    pub const ALL: Scopes = Scopes((1 << SCOPES.len()) - 1);

    /// Parses a space-delimited scope list (RFC 6749 §3.3); `Err` names the first unknown scope.
    pub fn parse(list: &str) -> Result<Scopes, String> {
        let mut bits = 0u8;
        for word in list.split(' ').filter(|w| !w.is_empty()) {
            match SCOPES.iter().position(|(name, _)| *name == word) {
                Some(i) => bits |= 1 << i,
                None => return Err(word.to_string()),
            }
        }
        Ok(Scopes(bits))
    }

    pub fn contains(self, other: Scopes) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        SCOPES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, (name, _))| *name)
    }

    pub fn descriptions(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        SCOPES
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, s)| *s)
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.names().collect::<Vec<_>>().join(" "))
    }
}

/// A registered client application.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub id: String,
    /// Shown on the consent page.
    pub name: String,
    /// `None` for a public client, which must use PKCE (S256).
    #[serde(default)]
    pub secret: Option<String>,
    /// Exact redirect URIs; for loopback ones any port is accepted (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// Scopes this client may ask for; all known scopes when absent.
    #[serde(default)]
    pub scopes: Option<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.secret.is_none()
    }

    pub fn allowed_scopes(&self) -> Scopes {
        self.scopes
            .as_deref()
            .and_then(|s| Scopes::parse(s).ok())
            .unwrap_or(Scopes::ALL)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

/// A resource owner: someone who logs in and whose data the API serves.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub username: String,
    pub password: String,
    pub name: String,
    pub email: String,
    /// How many private posts the API serves for this user.
    pub posts: usize,
}

impl User {
    /// The user's subject identifier, the `sub` of ID tokens and `/userinfo`
    /// (OpenID Connect Core 1.0 §2, §8): stable (the same for this username
    /// on every run and every copy of the course), opaque (neither the
    /// username nor the email, which may change or be reused), 22 base64url
    /// characters.
    ///
    /// ```
    /// let alice = &mock_provider::builtin_users()[0];
    /// assert_eq!(alice.subject(), alice.subject());
    /// assert!(!alice.subject().contains("alice"));
    /// ```
    pub fn subject(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("oauth2-lab subject {}", self.username));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    }

    /// True for the lab's demo users (alice, bob), whose passwords are public:
    /// pages and the banner show them. A class's own users (`--config`) keep
    /// theirs private.
    pub fn is_demo(&self) -> bool {
        builtin_users()
            .iter()
            .any(|b| b.username == self.username && b.password == self.password)
    }
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("name", &self.name)
            .field("posts", &self.posts)
            .finish()
    }
}

const LOOPBACK_CALLBACKS: [&str; 3] = [
    "http://127.0.0.1/callback",
    "http://[::1]/callback",
    "http://localhost/callback",
];

pub fn builtin_clients() -> Vec<Client> {
    let uris = LOOPBACK_CALLBACKS
        .iter()
        .map(|u| u.to_string())
        .collect::<Vec<_>>();
    vec![
        Client {
            id: "lab-client".into(),
            name: "Lab Client (confidential)".into(),
            secret: Some("lab-secret".into()),
            redirect_uris: uris.clone(),
            scopes: None,
        },
        Client {
            id: "lab-public".into(),
            name: "Lab Public Client (PKCE)".into(),
            secret: None,
            redirect_uris: uris,
            scopes: None,
        },
    ]
}

pub fn builtin_users() -> Vec<User> {
    vec![
        User {
            username: "alice".into(),
            password: "wonderland".into(),
            name: "Alice Liddell".into(),
            email: "alice@example.test".into(),
            posts: 137,
        },
        User {
            username: "bob".into(),
            password: "builder".into(),
            name: "Bob Builder".into(),
            email: "bob@example.test".into(),
            posts: 12,
        },
    ]
}

/// Class mode (`--class`, or a `[class]` table in `--config`): the demo users
/// are removed (refused at login, their passwords shown nowhere), so every flow
/// belongs to a student. `mock-provider class-init` writes such a file.
///
/// ```toml
/// [class]
/// [[class.student]]
/// username = "student01"
/// clients = ["student01-app", "student01-public"]
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class {
    /// The students, each with the client ids their programs use; with none,
    /// every user of `--config` is a student.
    #[serde(default)]
    pub student: Vec<Student>,
}

/// A student of a class: a user, and the client ids that name their flows
/// before they log in.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Student {
    pub username: String,
    #[serde(default)]
    pub clients: Vec<String>,
}

impl Class {
    /// The student whose client this is, if any.
    pub fn student_of_client(&self, client_id: &str) -> Option<&str> {
        self.student
            .iter()
            .find(|s| s.clients.iter().any(|c| c == client_id))
            .map(|s| s.username.as_str())
    }
}

/// Where the trace of protocol steps goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceOutput {
    /// Kept for `/_lab/events` only (tests).
    Quiet,
    /// Also printed, one line per step (the binary).
    Stdout,
}

/// Everything a provider is started with.
#[derive(Clone)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub clients: Vec<Client>,
    pub users: Vec<User>,
    /// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: Duration,
    pub token_ttl: Duration,
    pub refresh_ttl: Duration,
    /// Lifetime of a device code and its user code (RFC 8628 §3.2 `expires_in`).
    pub device_ttl: Duration,
    /// Skip the consent page: every valid request is approved as this user.
    pub auto_approve: Option<String>,
    /// API requests per second allowed per access token.
    pub rate_limit: Option<u32>,
    pub clock: Arc<dyn Clock>,
    pub trace: TraceOutput,
    pub limits: crate::http::Limits,
    /// Host names the provider answers to besides its own loopback names
    /// (`--allow-host`): a name a proxy or tunnel in front of it is reached by.
    pub allowed_hosts: Vec<String>,
    /// Class mode (see [`Class`]); `None` outside class.
    pub class: Option<Class>,
    /// Every trace step is also appended here, as JSON Lines (`--events-file`).
    pub events_file: Option<PathBuf>,
    /// Where to listen instead of 127.0.0.1:`port` (`--listen`); an address
    /// that is not loopback needs `public_url`.
    pub listen: Option<SocketAddr>,
    /// The URL students reach the provider by (`--public-url`): the issuer,
    /// and a name the Host check accepts.
    pub public_url: Option<String>,
    /// A new ID token signing key every period, by `clock` (`--rotate-keys`);
    /// the previous key stays in the JWK Set one more period. `None`: one key
    /// for the provider's life.
    pub rotate_keys: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            clients: builtin_clients(),
            users: builtin_users(),
            code_ttl: Duration::from_secs(60),
            token_ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(14 * 24 * 3600),
            device_ttl: Duration::from_secs(600),
            auto_approve: None,
            rate_limit: None,
            clock: Arc::new(SystemClock),
            trace: TraceOutput::Quiet,
            limits: crate::http::Limits::default(),
            allowed_hosts: Vec::new(),
            class: None,
            events_file: None,
            listen: None,
            public_url: None,
            rotate_keys: None,
        }
    }
}

impl Config {
    /// Uses `clock` instead of the real time.
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds the clients and users of a TOML file to the built-in ones.
    ///
    /// ```toml
    /// [[client]]
    /// id = "my-app"
    /// name = "My App"
    /// secret = "change-me"          # leave out for a public (PKCE) client
    /// redirect_uris = ["http://127.0.0.1/callback"]
    ///
    /// [[user]]
    /// username = "carol"
    /// password = "carol-pass"
    /// name = "Carol Jones"
    /// email = "carol@example.test"
    /// posts = 30
    /// ```
    pub fn add_from_toml(&mut self, text: &str) -> Result<(), String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            client: Vec<Client>,
            #[serde(default)]
            user: Vec<User>,
            #[serde(default)]
            class: Option<Class>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        for client in file.client {
            if self.clients.iter().any(|c| c.id == client.id) {
                return Err(format!("client {:?} is registered twice", client.id));
            }
            if client.redirect_uris.is_empty() {
                return Err(format!("client {:?} has no redirect_uris", client.id));
            }
            for uri in &client.redirect_uris {
                let parsed = url::Url::parse(uri)
                    .map_err(|e| format!("client {:?}: redirect URI {uri:?}: {e}", client.id))?;
                // RFC 6749 §3.1.2.1 and RFC 8252 §7.3: a redirect goes over
                // TLS, or stays on this machine. Anything else (javascript:,
                // data:, file:, plain http to another host) is refused here,
                // so the provider never redirects to it.
                let loopback = match parsed.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                    None => false,
                };
                match parsed.scheme() {
                    "https" if parsed.host().is_some() => {}
                    "http" if loopback => {}
                    "http" => {
                        return Err(format!(
                            "client {:?}: redirect URI {uri:?} uses http on a host that is not loopback: use https, or http on 127.0.0.1, [::1] or localhost (RFC 6749 §3.1.2.1)",
                            client.id
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "client {:?}: redirect URI {uri:?} is not http(s): use https, or http on 127.0.0.1, [::1] or localhost (RFC 6749 §3.1.2.1)",
                            client.id
                        ));
                    }
                }
                if parsed.fragment().is_some() {
                    return Err(format!(
                        "client {:?}: redirect URI {uri:?} must not have a fragment (RFC 6749 §3.1.2)",
                        client.id
                    ));
                }
            }
            if let Some(scopes) = &client.scopes {
                Scopes::parse(scopes)
                    .map_err(|s| format!("client {:?}: unknown scope {s:?}", client.id))?;
            }
            self.clients.push(client);
        }
        for user in file.user {
            if self.users.iter().any(|u| u.username == user.username) {
                return Err(format!("user {:?} is registered twice", user.username));
            }
            self.users.push(user);
        }
        if let Some(class) = file.class {
            for student in &class.student {
                if !self.users.iter().any(|u| u.username == student.username) {
                    return Err(format!(
                        "class student {:?} is not a [[user]]: add the user or remove the student",
                        student.username
                    ));
                }
                if let Some(id) = student
                    .clients
                    .iter()
                    .find(|id| !self.clients.iter().any(|c| &c.id == *id))
                {
                    return Err(format!(
                        "class student {:?}: client {id:?} is not a [[client]]: add the client or remove it from the student",
                        student.username
                    ));
                }
            }
            let mine = self.class.get_or_insert_with(Class::default);
            mine.student.extend(class.student);
        }
        Ok(())
    }

    /// [`Config::add_from_toml`] with a file's contents.
    pub fn add_from_file(&mut self, path: &Path) -> Result<(), String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.add_from_toml(&text)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}
