//! The watch loop in a terminal: keys on their own thread (`console`), file
//! changes from `notify`, checks and runs on worker threads, all as messages
//! to one loop that feeds the [`Screen`] and redraws it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use console::{Key, Term, style};
use notify::{EventKind, RecursiveMode, Watcher};

use crate::course::Course;
use crate::screen::{Effect, Event, Screen};
use crate::state::State;

/// Editors write a file in several steps (a temporary file, a rename, the
/// metadata): wait this long after the last change before checking.
const QUIET: Duration = Duration::from_millis(200);

pub enum Input {
    Event(Event),
    /// A file under the watched folder changed.
    Changed(PathBuf),
}

/// Where the screen is drawn. In a terminal: cleared, then redrawn whole.
pub trait Draw {
    fn draw(&mut self, lines: &[String]);
}

pub struct TermDraw(pub Term);

impl Draw for TermDraw {
    fn draw(&mut self, lines: &[String]) {
        let _ = self.0.clear_screen();
        let text: Vec<String> = lines.iter().map(|l| colour(l)).collect();
        // `\r\n`: correct whether or not the key thread has the terminal in raw mode.
        let _ = self.0.write_str(&(text.join("\r\n") + "\r\n"));
    }
}

fn colour(line: &str) -> String {
    if line.starts_with('✓') {
        style(line).green().bold().to_string()
    } else if line.starts_with('✗') {
        style(line).red().to_string()
    } else if line.starts_with("OAuth2 Lab") || line.starts_with("Step ") {
        style(line).bold().to_string()
    } else {
        line.to_string()
    }
}

/// Runs the watch screen in this terminal until `q`.
pub fn run(course: Course, start: usize) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let keys = tx.clone();
    thread::spawn(move || read_keys(&keys));
    let term = Term::stdout();
    let _ = term.hide_cursor();
    let result = event_loop(course, start, tx, rx, &mut TermDraw(term.clone()));
    let _ = term.show_cursor();
    if result.is_ok() {
        let _ = term.write_line("\r\nStopped. cargo lab starts again where you are.");
    }
    result
}

fn read_keys(tx: &Sender<Input>) {
    let term = Term::stdout();
    loop {
        let key = match term.read_key_raw() {
            Ok(Key::Char(c)) => c.to_ascii_lowercase(),
            Ok(Key::CtrlC | Key::Escape) => 'q',
            Ok(_) => continue,
            Err(_) => 'q',
        };
        if tx.send(Input::Event(Event::Key(key))).is_err() || key == 'q' {
            return;
        }
    }
}

/// The loop itself, given where inputs come from and where to draw: the
/// tests drive it with their own keys and a recording [`Draw`].
pub fn event_loop(
    course: Course,
    start: usize,
    tx: Sender<Input>,
    rx: Receiver<Input>,
    draw: &mut dyn Draw,
) -> Result<(), String> {
    let state = State::load(&course.root);
    let standings = (0..course.lessons.len())
        .map(|i| course.known(&state, i))
        .collect();
    let hints = course
        .lessons
        .iter()
        .map(|l| state.hints_shown(l))
        .collect();
    let mut screen = Screen::new(course.lessons.clone(), standings, hints, start);
    let course = std::sync::Arc::new(course);

    let files = tx.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matters(&event.kind) {
            for path in event.paths {
                let _ = files.send(Input::Changed(path));
            }
        }
    })
    .map_err(|e| {
        format!("cannot watch the lesson's files ({e}): use cargo lab check NN after each save")
    })?;
    let mut watched: Option<PathBuf> = None;
    let mut changed_at: Option<Instant> = None;

    let mut effects = screen.start();
    loop {
        for effect in effects.drain(..) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Watch(index) => {
                    if let Some(old) = watched.take() {
                        let _ = watcher.unwatch(&old);
                    }
                    let dir = course.lessons[index].dir(&course.root).join("src");
                    watcher.watch(&dir, RecursiveMode::Recursive).map_err(|e| {
                        format!(
                            "cannot watch {} ({e}): use cargo lab check NN after each save",
                            dir.display()
                        )
                    })?;
                    watched = Some(dir);
                    changed_at = None;
                }
                Effect::Check(index) => {
                    let (course, tx) = (course.clone(), tx.clone());
                    thread::spawn(move || {
                        let event = match course.check(index) {
                            Ok(report) => Event::Checked(report),
                            Err(why) => Event::CheckFailed(why),
                        };
                        let _ = tx.send(Input::Event(event));
                    });
                }
                Effect::Run(index) => {
                    let (course, tx) = (course.clone(), tx.clone());
                    thread::spawn(move || {
                        let _ = tx.send(Input::Event(run_program(&course, index)));
                    });
                }
                Effect::RememberHints(index, shown) => {
                    let lesson = &course.lessons[index];
                    let _ = State::change(&course.root, |s| s.memory(lesson).hints_shown = shown);
                }
            }
        }
        draw.draw(&screen.view());
        let input = match changed_at {
            Some(at) => match rx.recv_timeout(QUIET.saturating_sub(at.elapsed())) {
                Ok(input) => input,
                Err(RecvTimeoutError::Timeout) => {
                    changed_at = None;
                    Input::Event(Event::Saved)
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match rx.recv() {
                Ok(input) => input,
                Err(_) => return Ok(()),
            },
        };
        effects = match input {
            Input::Changed(path) => {
                if watched
                    .as_deref()
                    .is_some_and(|dir| is_source_in(&path, dir))
                {
                    changed_at = Some(Instant::now());
                }
                vec![]
            }
            Input::Event(event) => screen.update(event),
        };
    }
}

/// Changes that may mean new contents: not reads, opens or closes without writing.
fn matters(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(
        kind,
        EventKind::Create(_)
            | EventKind::Modify(_)
            | EventKind::Remove(_)
            | EventKind::Access(AccessKind::Close(AccessMode::Write))
    )
}

/// A Rust file in `dir` (editors' swap and backup files are not).
fn is_source_in(path: &Path, dir: &Path) -> bool {
    path.starts_with(dir) && path.extension().is_some_and(|e| e == "rs")
}

/// `cargo run -p lessonNN -- --simulate-user alice`, its output kept.
fn run_program(course: &Course, index: usize) -> Event {
    let lesson = &course.lessons[index];
    let out = lab_tests::grade::cargo_command(&course.cargo, &course.root)
        .args([
            "run",
            "--quiet",
            "-p",
            &lesson.package,
            "--color",
            "never",
            "--",
        ])
        .args(["--simulate-user", "alice"])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(out) => {
            let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
            output.push_str(&String::from_utf8_lossy(&out.stderr));
            Event::Ran {
                ok: out.status.success(),
                output,
            }
        }
        Err(e) => Event::Ran {
            ok: false,
            output: format!("cannot run {}: {e}", course.cargo.to_string_lossy()),
        },
    }
}
