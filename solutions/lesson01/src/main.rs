//! `cargo run -p lesson01 [-- --port 8000]`
//! (`cargo run -p solution01` runs the same program on the reference answer.)
use clap::Parser;

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use solution01 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let args = labkit::PortArgs::parse();
        let server = labkit::listen(args.port)?;
        let base = format!("http://127.0.0.1:{}/", labkit::port_of(&server));
        println!("Listening on {base}");
        println!("Open this in your browser: {base}?name=alice&note=hello+world");
        lesson::serve_one_request(&server, &mut std::io::stdout())?;
        Ok(())
    })
}
