//! `--events-file PATH`: every trace step appended as a JSON line, the same
//! event `/_lab/events` answers (secrets already shortened), so a class's
//! steps outlive the in-memory window and a restart. The file is only ever
//! appended to; on start its latest steps seed the inspector and the class view.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::trace::{Event, KEPT_EVENTS};

/// What an events file holds from earlier runs.
pub struct Earlier {
    /// The latest [`KEPT_EVENTS`] steps, and the steps of each user's latest
    /// flow before them; oldest first.
    pub events: Vec<Event>,
    /// The highest flow number seen, so that new flows get new numbers.
    pub last_flow: u64,
    /// The highest step number seen, so that new steps continue from it.
    pub last_seq: u64,
}

/// Opens `path` for appending (created with mode 0600 on Unix: steps name
/// students) and reads back what earlier runs wrote.
pub fn open(path: &Path) -> Result<(File, Earlier), String> {
    let shown = path.display();
    let mut earlier = Earlier {
        events: Vec::new(),
        last_flow: 0,
        last_seq: 0,
    };
    match File::open(path) {
        Ok(file) => {
            let mut all = Vec::new();
            for line in BufReader::new(file).lines() {
                let line = line.map_err(|e| format!("cannot read {shown}: {e}"))?;
                // A line cut short by a crash, or not an event: skipped.
                let Ok(event) = serde_json::from_str::<Event>(&line) else {
                    continue;
                };
                earlier.last_flow = earlier.last_flow.max(event.flow.unwrap_or(0));
                earlier.last_seq = earlier.last_seq.max(event.seq);
                all.push(event);
            }
            // The latest steps, and each user's latest flow however old, so the
            // class view shows where every student stood.
            let mut latest: HashMap<&str, u64> = HashMap::new();
            for e in &all {
                if let (Some(user), Some(flow)) = (e.user.as_deref(), e.flow) {
                    latest.insert(user, flow);
                }
            }
            let flows: HashSet<u64> = latest.into_values().collect();
            let recent = all.len().saturating_sub(KEPT_EVENTS);
            earlier.events = all
                .iter()
                .enumerate()
                .filter(|(i, e)| *i >= recent || e.flow.is_some_and(|f| flows.contains(&f)))
                .map(|(_, e)| e.clone())
                .collect();
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    }
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|e| format!("cannot append to {shown}: {e}"))?;
    Ok((file, earlier))
}
