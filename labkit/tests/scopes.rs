//! RFC 6749 §3.3 and §5.1: the server may grant fewer scopes than asked for,
//! and the client checks before it collects.

use labkit::scopes_not_granted;

#[test]
fn no_scope_in_the_answer_means_all_were_granted() {
    assert!(scopes_not_granted("profile posts:read", None).is_empty());
}

#[test]
fn the_same_or_more_is_enough() {
    assert!(scopes_not_granted("profile posts:read", Some("posts:read profile")).is_empty());
    assert!(scopes_not_granted("profile", Some("profile posts:read")).is_empty());
}

#[test]
fn fewer_names_what_is_missing() {
    assert_eq!(
        scopes_not_granted("profile posts:read", Some("profile")),
        ["posts:read"]
    );
    assert_eq!(
        scopes_not_granted("read:user repo", Some("read:user,gist")),
        ["repo"],
        "GitHub's comma-separated answer"
    );
    assert_eq!(
        scopes_not_granted("profile posts:read", Some("")),
        ["profile", "posts:read"],
        "an empty scope granted nothing"
    );
}
