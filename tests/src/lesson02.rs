//! Lesson 02 — Open the browser: listen first, then open the browser at our own URL.

use std::io;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use labkit::LabError;

use crate::support::try_get;

type Pairs = Vec<(String, String)>;
type ListenAndOpen =
    fn(u16, &dyn Fn(&str) -> io::Result<()>, &mut dyn io::Write) -> Result<Pairs, LabError>;

/// What the fake browser saw.
#[derive(Default)]
struct Seen {
    urls: Vec<String>,
    listening_when_opened: Vec<bool>,
}

/// Runs `listen_and_open` on port 0 with a fake browser that, when asked to
/// open a URL, first checks something listens there, then loads it (now, or
/// after a while when `fails` says the browser could not be opened).
fn run(listen_and_open: ListenAndOpen, fails: bool) -> (Pairs, String, Seen) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let seen2 = seen.clone();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let opener = move |url: &str| -> io::Result<()> {
            let parsed = url::Url::parse(url).expect("the browser is given a full URL");
            let port = parsed.port().unwrap_or(80);
            let listening = TcpStream::connect_timeout(
                &format!("127.0.0.1:{port}").parse().unwrap(),
                Duration::from_secs(1),
            )
            .is_ok();
            let mut s = seen2.lock().unwrap();
            s.urls.push(url.to_string());
            s.listening_when_opened.push(listening);
            let url = url.to_string();
            std::thread::spawn(move || {
                if fails {
                    // A person reads the printed URL and opens it by hand, a little later.
                    std::thread::sleep(Duration::from_millis(50));
                }
                let _ = try_get(&url);
            });
            if fails {
                Err(io::Error::other("no browser on this machine"))
            } else {
                Ok(())
            }
        };
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut out = Vec::new();
            let result = listen_and_open(0, &opener, &mut out);
            (result, String::from_utf8(out).expect("output is UTF-8"))
        }));
        let _ = done.send(run);
    });
    let (result, printed) = match finished.recv_timeout(Duration::from_secs(5)) {
        Ok(Ok(ran)) => ran,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => {
            // Stuck waiting for a browser that never came: say why, from what the browser saw.
            let seen = seen.lock().unwrap();
            if seen.listening_when_opened.contains(&false) {
                panic!(
                    "the browser was opened at {} before anything listened there: bind the listener first",
                    seen.urls[0]
                );
            }
            if let Some(url) = seen.urls.iter().find(|u| u.contains(":0/")) {
                panic!(
                    "the browser was sent to {url}: with port 0 the system picks the port, read it back with labkit::port_of(&server)"
                );
            }
            if seen.urls.is_empty() {
                panic!(
                    "listen_and_open never opened the browser: call open(&url) once the listener is bound"
                );
            }
            panic!(
                "listen_and_open did not return after the browser's request: serve it with serve_one_request"
            );
        }
    };
    let pairs = result.unwrap_or_else(|e| panic!("listen_and_open failed: {}", e.0));
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (pairs, printed, seen)
}

pub fn opens_the_browser_only_after_listening(listen_and_open: ListenAndOpen) {
    let (pairs, _, seen) = run(listen_and_open, false);
    assert_eq!(
        seen.urls.len(),
        1,
        "open the browser exactly once, got {:?}",
        seen.urls
    );
    assert_eq!(
        seen.listening_when_opened,
        [true],
        "the browser was opened before anything listened at {}: bind the listener first",
        seen.urls[0]
    );
    assert!(
        !pairs.is_empty(),
        "the URL the browser opens carries a query, and its pairs are returned"
    );
}

pub fn opens_our_own_listener_on_127_0_0_1(listen_and_open: ListenAndOpen) {
    let (_, _, seen) = run(listen_and_open, false);
    let url = url::Url::parse(&seen.urls[0]).unwrap();
    assert_eq!(
        url.host_str(),
        Some("127.0.0.1"),
        "open http://127.0.0.1:PORT/…, the listener's own address"
    );
    assert_ne!(
        url.port(),
        Some(0),
        "with port 0 the system picks the port: read it back from the listener"
    );
}

pub fn prints_the_url_and_the_parameters(listen_and_open: ListenAndOpen) {
    let (pairs, printed, seen) = run(listen_and_open, false);
    assert!(
        printed.contains(&seen.urls[0]),
        "print the URL too (the browser may open elsewhere), got:\n{printed}"
    );
    for (name, value) in &pairs {
        assert!(
            printed.contains(&format!("{name} = {value:?}")),
            "print each pair as in lesson 01, got:\n{printed}"
        );
    }
}

pub fn keeps_waiting_when_no_browser_opens(listen_and_open: ListenAndOpen) {
    let (pairs, printed, seen) = run(listen_and_open, true);
    assert!(
        printed.contains(&seen.urls[0]),
        "when the browser cannot be opened, the printed URL is all the person has, got:\n{printed}"
    );
    assert!(
        !pairs.is_empty(),
        "keep waiting: the person opens the URL by hand"
    );
}

pub fn a_taken_port_is_a_clear_error(listen_and_open: ListenAndOpen) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let opened = Arc::new(Mutex::new(false));
    let opened2 = opened.clone();
    let result = listen_and_open(
        port,
        &move |_| {
            *opened2.lock().unwrap() = true;
            Ok(())
        },
        &mut Vec::new(),
    );
    let error = result.expect_err("listening on a taken port must fail");
    assert!(
        error.0.contains("in use"),
        "say the port is in use and what to do, got: {}",
        error.0
    );
    assert!(
        !*opened.lock().unwrap(),
        "do not open the browser when nothing listens"
    );
}

#[macro_export]
macro_rules! lesson02_suite {
    ($k:ident) => { $crate::lesson02_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            opens_the_browser_only_after_listening => $crate::lesson02::opens_the_browser_only_after_listening($k::listen_and_open);
            opens_our_own_listener_on_127_0_0_1 => $crate::lesson02::opens_our_own_listener_on_127_0_0_1($k::listen_and_open);
            prints_the_url_and_the_parameters => $crate::lesson02::prints_the_url_and_the_parameters($k::listen_and_open);
            keeps_waiting_when_no_browser_opens => $crate::lesson02::keeps_waiting_when_no_browser_opens($k::listen_and_open);
            a_taken_port_is_a_clear_error => $crate::lesson02::a_taken_port_is_a_clear_error($k::listen_and_open);
        }
    };
}
