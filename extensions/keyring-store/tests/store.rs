//! Against `keyring`'s in-memory mock store: the test never touches the
//! real credential store of the machine it runs on.

use serde_json::json;

#[test]
fn tokens_round_trip_and_are_forgotten() {
    keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
    let entry = keyring_store::entry("tokens-127.0.0.1-9000-lab-public").unwrap();
    let tokens = json!({"access_token": "lab_at_x", "refresh_token": "lab_rt_y", "expires_at": 1});
    assert_eq!(
        keyring_store::load(&entry).unwrap(),
        None,
        "nothing saved yet"
    );
    keyring_store::save(&entry, &tokens).unwrap();
    assert_eq!(keyring_store::load(&entry).unwrap(), Some(tokens));
    entry.set_password("{garbled").unwrap();
    assert_eq!(
        keyring_store::load(&entry).unwrap(),
        None,
        "garbled: ask again"
    );
    keyring_store::delete(&entry).unwrap();
    assert_eq!(keyring_store::load(&entry).unwrap(), None, "forgotten");
    keyring_store::delete(&entry).unwrap();
}
