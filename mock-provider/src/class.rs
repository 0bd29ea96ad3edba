//! `mock-provider class-init`: a class's config file (one user and two client
//! ids per student, with a `[class]` table) and one printable handout per
//! student. Passwords come from the operating system's random source and are
//! written only to these files, each readable by its owner alone (0600).

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::config::DEFAULT_SCOPE;
use crate::pages::escape;
use crate::secrets::random_bytes;

/// Letters and digits that cannot be mistaken for one another on paper (no
/// `l`, `1`, `o`, `0`); 32 of them, so a random byte maps to one without bias.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// The secret the course's programs send for a confidential client on a mock
/// provider (labkit sends the built-in `lab-client`'s): documented, not a secret.
const LAB_SECRET: &str = "lab-secret";

/// A password of 16 characters (80 bits), in groups of four for reading aloud.
fn new_password() -> String {
    let bytes = random_bytes::<16>();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// What `class-init` wrote.
#[derive(Debug)]
pub struct ClassFiles {
    pub config: PathBuf,
    pub handouts: Vec<PathBuf>,
}

/// Writes `DIR/class.toml` and `DIR/handouts/studentNN.html` for `students`
/// students. `public_url` is where students reach the provider (else an SSH
/// tunnel to `ssh`, or to a placeholder host). Never overwrites a file.
pub fn write_class(
    dir: &Path,
    students: usize,
    public_url: Option<&str>,
    ssh: Option<&str>,
) -> Result<ClassFiles, String> {
    if students == 0 || students > 999 {
        return Err("--students takes a number from 1 to 999".into());
    }
    let width = if students < 100 { 2 } else { 3 };
    let handouts_dir = dir.join("handouts");
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder
        .create(&handouts_dir)
        .map_err(|e| format!("cannot create {}: {e}", handouts_dir.display()))?;
    let config = dir.join("class.toml");
    let mut toml = String::from(
        "# A class for the mock provider, written by `mock-provider class-init`.\n\
         # Start it with: cargo run -p mock-provider -- --config class.toml\n\
         # The passwords below are the students' own: keep this file to yourself (mode 0600).\n\
         # The clients' secret is the lab's documented one, which the course's programs send.\n\n\
         [class]\n",
    );
    let mut handouts = Vec::new();
    let mut people = Vec::new();
    for n in 1..=students {
        let name = format!("student{n:0width$}");
        let password = new_password();
        let _ = write!(
            toml,
            "\n[[class.student]]\nusername = \"{name}\"\nclients = [\"{name}-app\", \"{name}-public\"]\n"
        );
        people.push((name, password));
    }
    for (name, password) in &people {
        let _ = write!(
            toml,
            "\n[[user]]\nusername = \"{name}\"\npassword = \"{password}\"\nname = \"Student {num}\"\nemail = \"{name}@class.example\"\nposts = 25\n\
             \n[[client]]\nid = \"{name}-app\"\nname = \"{name}'s app (confidential)\"\nsecret = \"{LAB_SECRET}\"\nredirect_uris = [\"http://127.0.0.1/callback\", \"http://[::1]/callback\", \"http://localhost/callback\"]\n\
             \n[[client]]\nid = \"{name}-public\"\nname = \"{name}'s app (PKCE)\"\nredirect_uris = [\"http://127.0.0.1/callback\", \"http://[::1]/callback\", \"http://localhost/callback\"]\n",
            num = name.trim_start_matches("student"),
        );
    }
    write_private(&config, &toml)?;
    for (name, password) in &people {
        let path = handouts_dir.join(format!("{name}.html"));
        write_private(&path, &handout(name, password, public_url, ssh))?;
        handouts.push(path);
    }
    Ok(ClassFiles { config, handouts })
}

/// Creates `path` with `text`, readable and writable by its owner only;
/// refuses to replace a file (a class's passwords are not lost by accident).
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} already exists: choose another --out folder, or move the old class away first",
                path.display()
            )
        } else {
            format!("cannot write {}: {e}", path.display())
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// One student's page: who they are, how to reach the provider, what to run.
fn handout(name: &str, password: &str, public_url: Option<&str>, ssh: Option<&str>) -> String {
    let (reach, url) = match public_url {
        Some(url) => (
            format!(
                "<p>The provider is at <code>{}</code> on the classroom network.</p>",
                escape(url)
            ),
            url.to_string(),
        ),
        None => (
            format!(
                "<p>Open a tunnel to the class's provider and leave it running in its own terminal:</p>\
                 <pre>ssh -N -L 9000:127.0.0.1:9000 {}</pre>\
                 <p>Then the provider answers on your laptop at <code>http://127.0.0.1:9000</code>.</p>",
                escape(ssh.unwrap_or("YOU@CLASS-HOST"))
            ),
            "http://127.0.0.1:9000".to_string(),
        ),
    };
    let url = escape(&url);
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>OAuth2 Lab · {name}</title><style>\
         body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;color:#1c2331}}\
         code,pre{{font-family:ui-monospace,Menlo,Consolas,monospace}}\
         pre{{background:#eef1f6;padding:.6rem .8rem;border-radius:6px;white-space:pre-wrap}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #dde1ea;padding:.3rem .6rem;text-align:left}}\
         </style></head><body>\
         <h1>OAuth2 Lab: your class account</h1>\
         <table><tr><th>Username</th><td><code>{name}</code></td></tr>\
         <tr><th>Password</th><td><code>{password}</code></td></tr>\
         <tr><th>Client id, lessons 03–05 and 08</th><td><code>{name}-app</code></td></tr>\
         <tr><th>Client id, lessons 06, 07, 09–11</th><td><code>{name}-public</code></td></tr></table>\
         <p>Log in with this username and password on the provider's page; keep the password to \
         yourself. The lab's demo users (alice, bob) are switched off in class.</p>\
         <h2>Reaching the provider</h2>{reach}\
         <h2>Running a lesson</h2>\
         <p>Tell the programs where the provider is, once per terminal:</p>\
         <pre>export LAB_MOCK_URL={url}</pre>\
         <p>Then run your lesson with your client id, for example:</p>\
         <pre>cargo run -p lesson03 -- --client-id {name}-app\ncargo run -p lesson06 -- --client-id {name}-public</pre>\
         <p>The browser opens the provider's page: log in as <code>{name}</code>. \
         Your instructor sees your flows in the provider's inspector. \
         Without a scope flag the programs ask for <code>profile posts:read</code> \
         (the provider's default is <code>{DEFAULT_SCOPE}</code>).</p>\
         </body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_from_the_alphabet() {
        let p = new_password();
        assert_eq!(p.len(), 19, "{p}");
        assert!(p.bytes().all(|b| b == b'-' || ALPHABET.contains(&b)), "{p}");
        assert_ne!(p, new_password());
    }
}
