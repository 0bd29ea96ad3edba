//! `cargo run -p lesson12 [-- --simulate-user alice] [--issuer URL]`: the flow
//! as a public client that defends itself. `--issuer` names the provider; the
//! lab's attacker is one (`cargo run -p mock-provider -- --attacker mix-up`).
//! (`cargo run -p solution12` runs the same program on the reference answer.)
use std::time::Duration;

use clap::Parser;
use labkit::{Cli, ClientKind, Provider};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson12 as lesson;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    cli: Cli,
    /// The provider's issuer identifier: its metadata is read from
    /// URL/.well-known/oauth-authorization-server (RFC 8414 §3).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
}

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let Args { cli, issuer } = Args::parse();
        // Without --issuer: the mock provider, running or started here (kept
        // alive until the end).
        let (issuer, _provider) = match issuer {
            Some(url) => (url.trim_end_matches('/').to_string(), None),
            None => {
                let provider = Provider::choose(&cli, ClientKind::Public)?;
                let authorize = &provider.client.authorize_url;
                let issuer = authorize.trim_end_matches("/authorize").to_string();
                (issuer, Some(provider))
            }
        };
        let options = lesson::Options {
            issuer: issuer.clone(),
            client_id: cli.client_id.clone().unwrap_or("lab-public".into()),
            scope: cli.scope.clone(),
            // From lesson 06 on, any free port unless --port says otherwise.
            port: cli.port.unwrap_or(0),
            wait: cli.timeout,
            answer_deadline: Duration::from_secs(30),
        };
        let simulate = cli.simulate_user.as_deref();
        let open = |url: &str| labkit::defend::open_browser(simulate, url);
        let tokens = lesson::run(&options, open, &mut std::io::stdout())?;
        let api = format!("{issuer}/api");
        if let Ok(Some(profile)) = labkit::read_profile(&api, &tokens.access_token) {
            println!("Signed in as {} ({})", profile.name, profile.username);
        }
        Ok(())
    })
}
