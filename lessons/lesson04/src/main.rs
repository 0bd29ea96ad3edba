//! `cargo run -p lesson04 [-- --simulate-user alice]`: permission, code, then tokens.
//! (`cargo run -p solution04` runs the same program on the reference answer.)
use clap::Parser;
use labkit::{Cli, Flow};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson04 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        let flow = Flow::start(&cli, 4)?;
        let state = lesson::new_state();
        flow.step("Asking for permission: log in and approve at");
        flow.send_browser(&lesson::authorization_url(
            &flow.client,
            &flow.redirect_uri,
            &state,
        ));
        flow.step(&format!(
            "Waiting for the browser to come back to {}",
            flow.redirect_uri
        ));
        let code = lesson::wait_for_callback(
            &flow.server,
            &state,
            flow.client.iss.as_deref(),
            flow.deadline,
        )?;
        flow.step(&format!(
            "Trading the code ({code}) for tokens at {}",
            flow.client.token_url
        ));
        let tokens = lesson::exchange_code(&flow.client, &code, &flow.redirect_uri)?;
        let expires = tokens
            .expires_in
            .map(|s| format!(", expires in {s} s"))
            .unwrap_or_default();
        flow.step(&format!(
            "Got an access token ({}{expires}): lesson 05 uses it",
            tokens.access_token
        ));
        Ok(())
    })
}
