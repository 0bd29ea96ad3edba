//! The watch loop as far as a test can drive it: real file watching (notify)
//! and real worker threads, keys sent as messages instead of read from a
//! terminal, and every frame recorded instead of drawn.
#![cfg(unix)]

mod support;

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use lab::course::Course;
use lab::screen::Event;
use lab::watch::{Draw, Input, event_loop};
use support::Scratch;

struct Frames(Sender<String>);

impl Draw for Frames {
    fn draw(&mut self, lines: &[String]) {
        let _ = self.0.send(lines.join("\n"));
    }
}

/// Waits for a frame holding `text` (the checks run on other threads).
fn frame_with(frames: &Receiver<String>, text: &str) -> String {
    let mut seen = Vec::new();
    loop {
        match frames.recv_timeout(Duration::from_secs(20)) {
            Ok(frame) if frame.contains(text) => return frame,
            Ok(frame) => seen.push(frame),
            Err(_) => panic!(
                "no frame with {text:?}; the last was:\n{}",
                seen.last().map_or("", |f| f.as_str())
            ),
        }
    }
}

#[test]
fn saves_keys_and_checks_drive_the_screen() {
    let course = Scratch::new();
    let root = course.root().to_path_buf();
    let lab = Course::at(root.clone(), course.path("fake-cargo").into()).unwrap();
    let (tx, rx) = mpsc::channel();
    let (frames_tx, frames) = mpsc::channel();
    let keys = tx.clone();
    let looping = std::thread::spawn(move || event_loop(lab, 0, tx, rx, &mut Frames(frames_tx)));
    let key = |c: char| keys.send(Input::Event(Event::Key(c))).unwrap();

    let first = frame_with(&frames, "Step 1 of 1: listen, then open the browser");
    assert!(first.contains("OAuth2 Lab · lesson 02 of 2: Open the browser"));
    assert!(first.contains("Course [░░░░░░░░░░░░░░░░░░░░] 0 of 2 lessons passed"));
    assert!(first.contains("✗ makes_a_state"));

    key('h');
    frame_with(&frames, "Hint 1 of 2: Listen first.");
    assert!(
        course
            .read(".lab/state.json")
            .contains("\"hints_shown\": 1")
    );

    key('r');
    frame_with(&frames, "Lesson 02 waits for your browser");

    // A save (the file watcher, after the quiet time) checks again: green.
    course.write("lessons/lesson02/src/lib.rs", "pub fn step1() {}\n");
    let green = frame_with(&frames, "✓ Lesson 02 passed: all 2 checks.");
    assert!(green.contains("Next, lesson 03: Ask for permission. You will make a fresh state; build the authorization URL."));
    assert!(green.contains("1 of 2 lessons passed"));

    key('n');
    frame_with(&frames, "Step 1 of 2: make a fresh state");
    // The watcher follows the lesson: a save in lesson 03 is checked.
    course.write("lessons/lesson03/src/lib.rs", "// WRONG\n");
    frame_with(&frames, "✗ builds_the_url");

    key('r');
    frame_with(
        &frames,
        "the lesson03 program ran with: run --quiet -p lesson03 --color never -- --simulate-user alice",
    );

    key('l');
    frame_with(&frames, "03  Ask for permission  1 of 2 checks");
    key('q');
    looping.join().unwrap().unwrap();
}
