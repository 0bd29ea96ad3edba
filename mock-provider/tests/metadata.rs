//! Authorization server metadata (RFC 8414), from outside over HTTP: what the
//! document says is what the provider does.

mod common;

use common::*;

// RFC 8414 §3: the document is JSON at the well-known path, and §3.3: its
// `issuer` is the issuer identifier, the base URL with no query or fragment.
#[test]
fn rfc8414_3_the_document_names_the_issuer_it_is_served_from() {
    let p = start();
    let answer = get(
        &format!("{}/.well-known/oauth-authorization-server", p.base_url()),
        None,
    );
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        answer.headers
    );
    let doc = answer.json();
    assert_eq!(doc["issuer"], p.base_url());
    assert!(!p.base_url().contains(['?', '#']));
}

// RFC 8414 §2: every endpoint it names is under the issuer and answers there
// (a request without parameters is refused with 400, never 404).
#[test]
fn rfc8414_2_every_endpoint_named_answers() {
    let p = start();
    let doc = get(
        &format!("{}/.well-known/oauth-authorization-server", p.base_url()),
        None,
    )
    .json();
    let endpoint = |name: &str| {
        let url = doc[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is named"));
        assert!(url.starts_with(p.base_url()), "{name}: {url}");
        url.to_string()
    };
    assert_eq!(get(&endpoint("authorization_endpoint"), None).status, 400);
    for name in [
        "token_endpoint",
        "revocation_endpoint",
        "device_authorization_endpoint",
    ] {
        let status = post_form(&endpoint(name), None, &[]).status;
        assert!(
            (400..=401).contains(&status),
            "{name}: a request without parameters is refused, got {status}"
        );
    }
    let docs = get(&endpoint("service_documentation"), None);
    assert_eq!(docs.status, 200);
}

// RFC 8414 §2, RFC 7636 §4.3, RFC 9207 §3: the supported values are the ones
// the provider enforces.
#[test]
fn rfc8414_2_supported_values_are_what_the_provider_does() {
    let p = start();
    let doc = get(
        &format!("{}/.well-known/oauth-authorization-server", p.base_url()),
        None,
    )
    .json();
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    // The plain method is refused: a public client's request with it comes back as an error.
    let plain = get(
        &authorize_url(
            p.base_url(),
            "lab-public",
            &[
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ],
        ),
        None,
    );
    assert_eq!(plain.status, 302, "{}", plain.body);
    assert_eq!(
        plain.location_param("error").as_deref(),
        Some("invalid_request")
    );
    // The iss it announces comes back with every authorization answer.
    let redirect = p
        .resource_owner("alice")
        .approve(&authorize_url(p.base_url(), "lab-client", &[]))
        .unwrap();
    assert_eq!(redirect.param("iss").as_deref(), Some(p.base_url()));
}
