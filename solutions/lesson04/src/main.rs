//! `cargo run -p solution04 [-- --simulate-user alice]`: permission, code, then tokens.
use clap::Parser;
use labkit::{Cli, Flow};

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        let flow = Flow::start(&cli, 4)?;
        let state = solution04::new_state();
        flow.step("Asking for permission: log in and approve at");
        flow.send_browser(&solution04::authorization_url(
            &flow.client,
            &flow.redirect_uri,
            &state,
        ));
        flow.step(&format!(
            "Waiting for the browser to come back to {}",
            flow.redirect_uri
        ));
        let code = solution04::wait_for_callback(&flow.server, &state, flow.deadline)?;
        flow.step(&format!(
            "Trading the code ({code}) for tokens at {}",
            flow.client.token_url
        ));
        let tokens = solution04::exchange_code(&flow.client, &code, &flow.redirect_uri)?;
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
