//! `cargo run -p lesson09 [-- --simulate-user alice]`: sign in with no browser
//! on this machine; a person approves on another device.
//! (`cargo run -p solution09` runs the same program on the reference answer.)
use std::cell::Cell;

use clap::Parser;
use labkit::{Cli, ClientKind, LabError, Provider};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use solution09 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        if cli.authorize_url.is_some() && cli.token_url.is_some() && cli.device_url.is_none() {
            return Err(LabError(
                "this program uses the device flow: add --device-url with the provider's device authorization endpoint".into(),
            ));
        }
        let provider = Provider::choose(&cli, ClientKind::Public)?;
        let client = &provider.client;
        let done = Cell::new(0);
        let step = |text: &str| {
            done.set(done.get() + 1);
            println!("[{}/4] {text}", done.get());
        };
        step(&format!(
            "Asking for a code at {}",
            client.device_url.as_deref().unwrap_or_default()
        ));
        let device = lesson::request_device_code(client)?;
        println!();
        println!("  No browser here. On your phone or another computer, open");
        println!();
        println!("      {}", device.verification_uri);
        println!();
        println!("  and enter the code");
        println!();
        println!("      {}", device.user_code);
        println!();
        if let Some(complete) = &device.verification_uri_complete {
            println!("  (or open {complete}, which has the code filled in)");
        }
        println!(
            "  The code works for {} minutes.",
            device.expires_in.div_ceil(60)
        );
        if let Some(owner) = provider.simulated.clone() {
            println!(
                "  (--simulate-user: {} enters the code and approves in the background)",
                owner.username
            );
            let (uri, code) = (device.verification_uri.clone(), device.user_code.clone());
            std::thread::spawn(move || {
                if let Err(e) = owner.approve_device(&uri, &code) {
                    eprintln!("  simulated user: {e}");
                }
            });
        }
        step(&format!(
            "Waiting for the decision: asking {} every {} s",
            client.token_url, device.interval
        ));
        let tokens = lesson::poll_for_tokens(client, &device, &lesson::real_sleep)?;
        if client.api_url.is_empty() {
            step(&format!("Got an access token ({})", tokens.access_token));
            step("No --api-url, so no API call: done");
            return Ok(());
        }
        step(&format!(
            "Got an access token ({}): reading the profile",
            tokens.access_token
        ));
        let profile = lesson::fetch_profile(client, &tokens.access_token)?;
        step(&format!(
            "Signed in as {} ({}), with no browser on this machine",
            profile.name, profile.username
        ));
        Ok(())
    })
}
