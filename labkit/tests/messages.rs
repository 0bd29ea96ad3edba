//! What a person reads when something goes wrong: one line saying what happened
//! and what to do next (snapshots, so a change is seen and reviewed).

use labkit::{ApiError, CallbackError, ErrorCode, LabError, Secret, TokenError};

#[test]
fn error_messages_say_what_happened_and_what_to_do() {
    let messages = [
        TokenError::Rejected {
            status: 400,
            code: ErrorCode::InvalidGrant,
            description: Some("the code was already used".into()),
        }
        .to_string(),
        TokenError::Rejected {
            status: 401,
            code: ErrorCode::InvalidClient,
            description: None,
        }
        .to_string(),
        TokenError::Rejected {
            status: 400,
            code: ErrorCode::InvalidScope,
            description: None,
        }
        .to_string(),
        TokenError::ServerError { status: 503 }.to_string(),
        TokenError::NotJson {
            status: 200,
            body_start: "<html><body>Sign in".into(),
        }
        .to_string(),
        TokenError::NotJson {
            status: 200,
            body_start: labkit::body_start(r#"{"access_token":"lab_at_Zx81kQ2b9VbTq"}"#),
        }
        .to_string(),
        TokenError::Rejected {
            status: 404,
            code: ErrorCode::InvalidRequest,
            description: Some("unrecognized route".into()),
        }
        .to_string(),
        TokenError::UnexpectedStatus { status: 302 }.to_string(),
        TokenError::UnsupportedTokenType("mac".into()).to_string(),
        CallbackError::Denied { description: None }.to_string(),
        CallbackError::Denied {
            description: Some("offline_access needs consent".into()),
        }
        .to_string(),
        CallbackError::Provider {
            error: "invalid_scope".into(),
            description: Some("unknown scope \"admin\"".into()),
        }
        .to_string(),
        CallbackError::TimedOut.to_string(),
        CallbackError::MixUp {
            expected: "http://127.0.0.1:9000".into(),
            got: Some("http://attacker.example".into()),
        }
        .to_string(),
        CallbackError::MixUp {
            expected: "http://127.0.0.1:9000".into(),
            got: None,
        }
        .to_string(),
        // The value comes from whoever sent the request: it stays on one line.
        CallbackError::MixUp {
            expected: "http://127.0.0.1:9000".into(),
            got: Some("http://attacker.example\nerror: all is fine".into()),
        }
        .to_string(),
        ApiError::Unauthorized {
            description: "the access token has expired".into(),
        }
        .to_string(),
        ApiError::Forbidden {
            description: "this call needs scope posts:read".into(),
        }
        .to_string(),
        ApiError::RateLimited { attempts: 6 }.to_string(),
        ApiError::Status {
            status: 400,
            body_start: labkit::body_start(
                r#"{"error":"invalid_request","error_description":"send the token in the Authorization header, not in the URL (RFC 6750 §2.3 warns it leaks)"}"#,
            ),
        }
        .to_string(),
        ApiError::Status {
            status: 404,
            body_start: labkit::body_start("<html><body>Not Found</body></html>"),
        }
        .to_string(),
        ApiError::Unreadable {
            url: "http://127.0.0.1:9000/api/me".into(),
            body_start: labkit::body_start(
                r#"{"error":"invalid_token","error_description":"the access token has expired"}"#,
            ),
        }
        .to_string(),
        TokenError::NoRefreshToken.to_string(),
        labkit::listen(taken_port())
            .err()
            .map(|e: LabError| e.0)
            .unwrap(),
    ];
    for m in &messages {
        assert_eq!(m.lines().count(), 1, "one line: {m}");
    }
    let port_line = messages.last().unwrap().replace(&taken_port_text(), "PORT");
    let mut all = messages[..messages.len() - 1].join("\n");
    all.push('\n');
    all.push_str(&port_line);
    insta::assert_snapshot!(all);
}

static TAKEN: std::sync::OnceLock<std::net::TcpListener> = std::sync::OnceLock::new();

fn taken_port() -> u16 {
    TAKEN
        .get_or_init(|| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .local_addr()
        .unwrap()
        .port()
}

fn taken_port_text() -> String {
    taken_port().to_string()
}

#[test]
fn secrets_never_print_whole() {
    let token = Secret::new("lab_at_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG");
    assert!(!format!("{token:?}").contains("0123456789"));
    assert!(!token.to_string().contains("0123456789"));
    let tokens: labkit::Tokens = serde_json::from_str(
        r#"{"access_token":"lab_at_SECRETSECRETSECRET","token_type":"Bearer","refresh_token":"lab_rt_SECRETSECRETSECRET"}"#,
    )
    .unwrap();
    assert!(
        !format!("{tokens:?}").contains("SECRETSECRET"),
        "{tokens:?}"
    );
}

#[test]
fn an_unfinished_step_exits_2_and_an_error_exits_1() {
    let todo = labkit::run(|| todo!("Step 1: something — see chapter 1"));
    assert_eq!(todo, std::process::ExitCode::from(2));
    let error = labkit::run(|| Err(LabError("port 8000 is in use".into())));
    assert_eq!(error, std::process::ExitCode::FAILURE);
    assert_eq!(labkit::run(|| Ok(())), std::process::ExitCode::SUCCESS);
}

/// No secret is printed whole: an error message quotes the start of a body, and a body that is
/// not quite a token response may still carry a token: its value is shortened.
#[test]
fn body_start_never_shows_a_secret_whole() {
    let token = "lab_at_Zx81kQ2b9VbTqWm3";
    for body in [
        format!(r#"{{"access_token":"{token}","token_type":"mac"}}"#),
        format!(r#"{{ "refresh_token" : "{token}" }}"#),
        format!("access_token={token}&scope=repo,gist"),
        format!("error=x&code={token}"),
        format!(r#"{{"device_code":"{token}"}}"#),
    ] {
        let start = labkit::body_start(&body);
        assert!(!start.contains(token), "{start}");
        assert!(start.contains("lab_at_Zx81…"), "still told apart: {start}");
    }
    assert_eq!(
        labkit::body_start("<html><body>Sign in</body></html>"),
        "<html><body>Sign in</body></html>"
    );
    assert_eq!(
        labkit::body_start(r#"{"codes":3,"error":"x"}"#),
        r#"{"codes":3,"error":"x"}"#,
        "only whole field names"
    );
}

/// RFC 6749 §5.1 says `expires_in` is a number; some providers send `"3600"`.
#[test]
fn expires_in_as_a_string_of_digits_is_read_too() {
    let tokens: labkit::Tokens = serde_json::from_str(
        r#"{"access_token":"t","token_type":"Bearer","expires_in":"3600","id_token":"x"}"#,
    )
    .unwrap();
    assert_eq!(tokens.expires_in, Some(3600));
    let missing: labkit::Tokens =
        serde_json::from_str(r#"{"access_token":"t","token_type":"Bearer"}"#).unwrap();
    assert_eq!(missing.expires_in, None);
    assert!(
        serde_json::from_str::<labkit::Tokens>(
            r#"{"access_token":"t","token_type":"Bearer","expires_in":"soon"}"#
        )
        .is_err()
    );
}

/// Bad news in the browser is marked as a warning, though the status is 200:
/// a person must not see a green tick on "No permission given".
#[test]
fn a_notice_is_a_warning_and_a_success_page_is_not() {
    let body = |response: tiny_http::Response<std::io::Cursor<Vec<u8>>>| {
        let status = response.status_code().0;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut response.into_reader(), &mut text).unwrap();
        (status, text)
    };
    let (status, bad) = body(labkit::notice("No permission given", "You said no."));
    assert_eq!(status, 200);
    assert!(bad.contains("<div class=\"mark\">!</div>"), "{bad}");
    let (_, good) = body(labkit::page(200, "Permission received", "Done."));
    assert!(good.contains("<div class=\"mark\">✓</div>"), "{good}");
}
