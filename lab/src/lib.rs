//! `cargo lab`, the student's companion: the parts its binary (`src/main.rs`)
//! puts together, public so that its tests can drive them without a terminal.

pub mod course;
pub mod reset;
pub mod screen;
pub mod state;
pub mod watch;
