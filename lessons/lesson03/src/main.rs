//! `cargo run -p lesson03 [-- --simulate-user alice]`: asks for permission and gets a code.
//! (`cargo run -p solution03` runs the same program on the reference answer.)
use clap::Parser;
use labkit::{Cli, Flow};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson03 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        let flow = Flow::start(&cli, 3)?;
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
            "Got an authorization code ({code}): lesson 04 trades it for a token"
        ));
        Ok(())
    })
}
