//! `cargo run -p mock-provider -- [--port 9000] [--code-ttl 60s] [--token-ttl 1h]
//! [--device-ttl 10m] [--auto-approve alice] [--rate-limit N/s] [--config FILE]
//! [--allow-host NAME]... [--rotate-keys EVERY] [--class] [--events-file PATH]
//! [--listen ADDR --public-url URL]`, or `mock-provider class-init --students N [--out DIR]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use mock_provider::{Config, MockProvider, TraceOutput};

/// A strict, local OAuth 2.0 provider for OAuth2 Lab: authorization server and API.
#[derive(Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// How long an authorization code stays valid.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    code_ttl: Duration,
    /// How long an access token stays valid.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    token_ttl: Duration,
    /// How long a refresh token stays valid.
    #[arg(long, default_value = "14days", value_parser = humantime::parse_duration)]
    refresh_ttl: Duration,
    /// How long a device code (RFC 8628) stays valid.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    device_ttl: Duration,
    /// Skip the consent page: approve every valid request as this user.
    #[arg(long, value_name = "USER")]
    auto_approve: Option<String>,
    /// API requests allowed per second per access token, as N/s (answers 429 beyond).
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    rate_limit: Option<u32>,
    /// More clients and users, from a TOML file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also answer requests whose Host is NAME (any port), for a proxy or
    /// tunnel in front; repeat for more names. Only 127.0.0.1, localhost and
    /// [::1] with the provider's port are answered otherwise.
    #[arg(long, value_name = "NAME", value_parser = parse_host_name)]
    allow_host: Vec<String>,
    /// Sign ID tokens with a new key every period (for example 10m); the
    /// previous key stays in the JWK Set one more period. Without it, one key
    /// signs for the provider's life.
    #[arg(long, value_name = "EVERY", value_parser = parse_period)]
    rotate_keys: Option<Duration>,
    /// Print no trace lines (for load tests).
    #[arg(long)]
    quiet: bool,
    /// Class mode: the demo users (alice, bob) are switched off, so every flow
    /// belongs to a student of --config (on by itself with a [class] table).
    #[arg(long)]
    class: bool,
    /// Also append every trace step to FILE, as JSON Lines (secrets shortened);
    /// on start, its latest steps fill the inspector and the class view again.
    #[arg(long, value_name = "FILE")]
    events_file: Option<PathBuf>,
    /// Listen on ADDR (IP:PORT) instead of 127.0.0.1:--port; an address other
    /// machines reach needs --public-url. Prefer SSH tunnels (the instructor guide).
    #[arg(long, value_name = "ADDR", conflicts_with = "port")]
    listen: Option<SocketAddr>,
    /// The URL students reach the provider by (http://NAME:PORT): the issuer,
    /// and a Host the provider answers to.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Write a class config (one user and two client ids per student, with
    /// generated passwords) and a printable handout per student.
    ClassInit {
        /// How many students.
        #[arg(long, value_name = "N")]
        students: usize,
        /// The folder to write class.toml and handouts/ into.
        #[arg(long, value_name = "DIR", default_value = "class")]
        out: PathBuf,
        /// The URL the handouts send students to (with --listen and --public-url);
        /// without it, they open an SSH tunnel.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// The SSH login the handouts' tunnel command uses, as USER@HOST.
        #[arg(long, value_name = "USER@HOST")]
        ssh: Option<String>,
    },
}

fn parse_rate(text: &str) -> Result<u32, String> {
    let n = text.strip_suffix("/s").unwrap_or(text);
    match n.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{text:?} is not a rate: write it as N/s, for example 5/s"
        )),
    }
}

fn parse_period(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.as_millis() > 0 => Ok(d),
        _ => Err(format!(
            "{text:?} is not a period: write it as a duration above zero, for example 10m"
        )),
    }
}

fn parse_host_name(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    if ok {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(format!(
            "{text:?} is not a host name: give the name alone, without scheme or port, for example lab.school.example"
        ))
    }
}

fn class_init(
    students: usize,
    out: &std::path::Path,
    public_url: Option<&str>,
    ssh: Option<&str>,
) -> ExitCode {
    match mock_provider::write_class(out, students, public_url, ssh) {
        Ok(files) => {
            // The passwords are in the files only, never on the terminal.
            println!(
                "Wrote {} ({} students) and {} handouts in {}, readable by you only.",
                files.config.display(),
                students,
                files.handouts.len(),
                out.join("handouts").display()
            );
            println!(
                "Start the class's provider with: cargo run -p mock-provider -- --config {} --events-file {}",
                files.config.display(),
                out.join("events.jsonl").display()
            );
            println!("Print one handout per student: each holds that student's password only.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::ClassInit {
        students,
        out,
        public_url,
        ssh,
    }) = &args.command
    {
        return class_init(*students, out, public_url.as_deref(), ssh.as_deref());
    }
    let mut config = Config {
        port: args.port,
        code_ttl: args.code_ttl,
        token_ttl: args.token_ttl,
        refresh_ttl: args.refresh_ttl,
        device_ttl: args.device_ttl,
        auto_approve: args.auto_approve,
        rate_limit: args.rate_limit,
        allowed_hosts: args.allow_host,
        class: args.class.then(mock_provider::Class::default),
        events_file: args.events_file,
        listen: args.listen,
        public_url: args.public_url,
        rotate_keys: args.rotate_keys,
        trace: if args.quiet {
            TraceOutput::Quiet
        } else {
            TraceOutput::Stdout
        },
        ..Config::default()
    };
    if let Some(path) = &args.config {
        if let Err(e) = config.add_from_file(path) {
            eprintln!("error: {e}: fix the file or leave out --config");
            return ExitCode::FAILURE;
        }
    }
    // A class's connections need more than a laptop's default 1,024 open files.
    // Only the binary raises the limit: the library may run inside a test harness.
    if let Err(e) = mock_provider::http::raise_fd_limit() {
        eprintln!("warning: could not raise the limit on open files ({e}); fewer connections fit");
    }
    let provider = match MockProvider::start(config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&provider);
    if provider.config().public_url.is_some() && !provider.addr().ip().is_loopback() {
        eprintln!(
            "warning: listening on {} for the network: anyone who reaches it can run flows, read the inspector (every student's steps) and try the students' passwords, over plain HTTP that anyone on the network can read; prefer SSH tunnels (book/src/appendix/instructor.md)",
            provider.addr()
        );
    }
    provider.wait();
    ExitCode::SUCCESS
}

fn print_banner(provider: &MockProvider) {
    let base = provider.base_url();
    let config = provider.config();
    println!("OAuth2 Lab mock provider listening on {base}");
    println!("  metadata   {base}/.well-known/oauth-authorization-server");
    println!("  authorize  {base}/authorize      token  {base}/token      revoke  {base}/revoke");
    println!(
        "  device     {base}/device_authorization  (RFC 8628; people enter codes at {base}/device)"
    );
    println!("  API        {base}/api/me  {base}/api/posts");
    println!(
        "  OpenID     {base}/.well-known/openid-configuration  keys {base}/.well-known/jwks.json  {base}/userinfo"
    );
    println!("  inspector  {base}/_lab  (open it in a browser: every flow, step by step, live)");
    println!("  events     {base}/_lab/events  (the same steps as JSON)");
    let port = provider.addr().port();
    let mut hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    if let Some(url) = &config.public_url {
        hosts.push(format!("{url} (--public-url)"));
    }
    hosts.extend(config.allowed_hosts.iter().cloned());
    println!(
        "  answers to Host {}; any other gets 421 (DNS rebinding defence; --allow-host adds names)",
        hosts.join(", ")
    );
    println!("Clients (redirect URIs: any port on the loopback ones):");
    let students_client = |id: &str| {
        config
            .class
            .as_ref()
            .is_some_and(|class| class.student_of_client(id).is_some())
    };
    for c in config.clients.iter().filter(|c| !students_client(&c.id)) {
        let kind = match &c.secret {
            // Secrets are never printed whole; the built-in one is in the README.
            Some(secret) => format!("confidential, secret {}", mock_provider::shorten(secret)),
            None => "public, PKCE S256 required".to_string(),
        };
        println!("  {:<12} {kind}; {}", c.id, c.redirect_uris.join(" "));
    }
    println!(
        "  (lab-client's secret is documented in the README and the book; the lesson programs use it with this provider)"
    );
    if let Some(class) = &config.class {
        // No password on the terminal: the handouts have them.
        let names: Vec<&str> = config.users.iter().map(|u| u.username.as_str()).collect();
        println!(
            "Class mode: {} students ({}{}), passwords on their handouts; the demo users are switched off.",
            names.len(),
            names.iter().take(3).copied().collect::<Vec<_>>().join(", "),
            if names.len() > 3 { ", …" } else { "" }
        );
        if !class.student.is_empty() {
            println!(
                "  each student's flows are named by their client ids (studentNN-app, studentNN-public)"
            );
        }
    } else {
        print_users(config);
    }
    println!(
        "Codes live {}, device codes {}, access tokens {}{}{}.",
        humantime::format_duration(config.code_ttl),
        humantime::format_duration(config.device_ttl),
        humantime::format_duration(config.token_ttl),
        config
            .rate_limit
            .map(|n| format!("; API limit {n}/s per token"))
            .unwrap_or_default(),
        config
            .auto_approve
            .as_ref()
            .map(|u| format!("; auto-approving as {u}"))
            .unwrap_or_default(),
    );
    let kid = provider.jwks()["keys"][0]["kid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!(
        "ID tokens (scope openid) are signed ES256 with key {kid}{}.",
        config
            .rotate_keys
            .map(|d| format!(
                ", a new key every {} (the previous one stays published one more period)",
                humantime::format_duration(d)
            ))
            .unwrap_or_default(),
    );
    if config.trace == TraceOutput::Stdout {
        println!("Trace (secrets shortened):");
    }
}

fn print_users(config: &Config) {
    println!("Users:");
    for u in &config.users {
        // The demo users' passwords are public; a class's own are not printed whole.
        let password = if u.is_demo() {
            format!("{:?}", u.password)
        } else {
            format!(
                "{} (from the config file)",
                mock_provider::shorten(&u.password)
            )
        };
        println!(
            "  {:<12} password {password}, {} posts",
            u.username, u.posts
        );
    }
}
