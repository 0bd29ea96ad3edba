//! The class view, `GET /_lab/class`: during class, one row per student (the
//! users of `--config`), where their latest flow stands and when they were last
//! seen, with nothing of anyone's secrets.

mod common;

use common::*;
use mock_provider::{Config, MockProvider, User};

fn student(name: &str) -> User {
    User {
        username: name.into(),
        password: format!("{name}-pass-9d2k"),
        name: format!("Student {name}"),
        email: format!("{name}@example.test"),
        posts: 3,
    }
}

fn class_provider() -> MockProvider {
    let mut config = Config::default();
    config.users.push(student("student01"));
    config.users.push(student("student02"));
    MockProvider::start(config).expect("provider starts")
}

#[test]
fn one_row_per_student_with_their_latest_stage() {
    let p = class_provider();
    // student01 gets as far as tokens; student02 has not started.
    let redirect = p
        .resource_owner("student01")
        .approve(&authorize_url(p.base_url(), "lab-client", &[]))
        .unwrap();
    let code = redirect.param("code").unwrap();
    assert_eq!(exchange(&p, &code).status, 200);

    let page = get(&format!("{}/_lab/class", p.base_url()), None);
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let body = &page.body;
    let row = |name: &str| {
        let start = body
            .find(&format!("<tr><th>{name}</th>"))
            .unwrap_or_else(|| panic!("a row for {name}: {body}"));
        let end = body[start..].find("</tr>").unwrap() + start;
        body[start..end].to_string()
    };
    let first = row("student01");
    assert!(first.contains("Flow 1"), "{first}");
    assert_eq!(
        first.matches("cell done").count(),
        4,
        "asked, consent, code back and tokens done: {first}"
    );
    assert!(first.contains("UTC"), "last seen: {first}");
    let second = row("student02");
    assert!(
        second.contains("no flow yet") && second.contains("never"),
        "{second}"
    );
    // The demo users are not students of the class.
    assert!(!body.contains("<tr><th>alice</th>"), "{body}");
    // No secret whole: the code never appears.
    assert!(!body.contains(&code), "the code is on the page");
    assert!(
        !body.contains("student01-pass-9d2k"),
        "a password is on the page"
    );
    // Nothing runs, nothing loads from elsewhere.
    assert!(!body.contains("<script"));
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
}

#[test]
fn without_a_class_every_user_has_a_row() {
    let p = start();
    let page = get(&format!("{}/_lab/class", p.base_url()), None);
    assert!(page.body.contains("<tr><th>alice</th>") && page.body.contains("<tr><th>bob</th>"));
}
