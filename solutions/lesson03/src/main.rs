//! `cargo run -p solution03 [-- --simulate-user alice]`: asks for permission and gets a code.
use clap::Parser;
use labkit::{Cli, Flow};

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        let flow = Flow::start(&cli, 3)?;
        let state = solution03::new_state();
        flow.step("Asking for permission: log in and approve at");
        flow.send_browser(&solution03::authorization_url(
            &flow.client,
            &flow.redirect_uri,
            &state,
        ));
        flow.step(&format!(
            "Waiting for the browser to come back to {}",
            flow.redirect_uri
        ));
        let code = solution03::wait_for_callback(&flow.server, &state, flow.deadline)?;
        flow.step(&format!(
            "Got an authorization code ({code}): lesson 04 trades it for a token"
        ));
        Ok(())
    })
}
