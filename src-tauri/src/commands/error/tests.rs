//! The error mapping's contract: shapes, codes, wording.

use std::path::PathBuf;
use std::time::Duration;

use reconnect_core::decode::decode_code;
use reconnect_store::AccountId;

use reconnect_core::health::Health;
use reconnect_engine::lock::LockError;
use reconnect_engine::{EngineError, FailureRecord};
use reconnect_signin::browser::BrowserError;
use reconnect_signin::loopback::LoopbackError;
use reconnect_signin::{DeviceError, PasteError, SigninError};
use reconnect_store::{HomeError, KeychainError, StoreError, VaultError};

use super::*;

/// Words that belong to the CLI, not the app.
const CLI_ADVICE: [&str; 9] = [
    "reconnect signin",
    "reconnect accounts",
    "`reconnect",
    "--select-account",
    "--browser",
    "gnome-keyring-daemon",
    "dbus-run-session",
    "run `",
    "see `",
];

fn io(text: &str) -> std::io::Error {
    std::io::Error::other(text.to_owned())
}

fn cause(text: &str) -> Box<dyn StdError + Send + Sync> {
    Box::new(io(text))
}

fn record(code: u32) -> Box<FailureRecord> {
    Box::new(FailureRecord::new(
        decode_code(code),
        1_700_000_000,
        "client+scope+1".into(),
    ))
}

fn keychain_cases() -> Vec<(KeychainError, FailureCode)> {
    use FailureCode::{KeychainDenied, KeychainLocked, KeychainUnavailable};
    vec![
        (KeychainError::Locked { cause: None }, KeychainLocked),
        (
            KeychainError::AccessDenied {
                cause: cause("dismissed"),
            },
            KeychainDenied,
        ),
        (
            KeychainError::NoSession {
                cause: cause("no bus"),
            },
            KeychainUnavailable,
        ),
        (
            KeychainError::NoProvider {
                cause: cause("no owner"),
            },
            KeychainUnavailable,
        ),
        (
            KeychainError::TooLarge {
                size: 9000,
                limit: 4096,
            },
            KeychainUnavailable,
        ),
        (
            KeychainError::Platform {
                cause: cause("the bus hung up"),
            },
            KeychainUnavailable,
        ),
        (KeychainError::Injected("has crashed"), KeychainUnavailable),
    ]
}

fn store_cases() -> Vec<(StoreError, FailureCode)> {
    use FailureCode::{
        DuplicateName, InvalidInput, KeychainLocked, ReconnectNeeded, Storage, UnknownAccount,
    };
    vec![
        (StoreError::DuplicateName("work".into()), DuplicateName),
        (StoreError::UnknownAccount("work".into()), UnknownAccount),
        (StoreError::UnknownAccountId(AccountId(7)), UnknownAccount),
        (
            StoreError::InvalidAccount("the client id is empty".into()),
            InvalidInput,
        ),
        (
            StoreError::TooNew {
                path: PathBuf::from("/data/reconnect.db"),
                found: 9,
                known: 2,
            },
            Storage,
        ),
        (StoreError::Corrupt("health.state"), Storage),
        (StoreError::Home(HomeError::Unknown), Storage),
        (
            StoreError::Vault(VaultError::Keychain(KeychainError::Locked { cause: None })),
            KeychainLocked,
        ),
        (
            StoreError::Vault(VaultError::Damaged {
                account: AccountId(7),
                what: "a chunk is missing",
            }),
            ReconnectNeeded,
        ),
        (
            StoreError::Vault(VaultError::Lock {
                path: PathBuf::from("/data/locks/7.lock"),
                source: io("read-only file system"),
            }),
            Storage,
        ),
    ]
}

fn engine_cases() -> Vec<(EngineError, FailureCode)> {
    use FailureCode as C;
    let name = || "adele-mail".to_owned();
    vec![
        (
            EngineError::UnknownAccount { name: name() },
            C::UnknownAccount,
        ),
        (EngineError::InvalidCode { code: 0 }, C::InvalidInput),
        (
            EngineError::NotSimulated {
                name: name(),
                authority: "https://login.microsoftonline.com".into(),
            },
            C::NotDemo,
        ),
        (EngineError::NotConnected { name: name() }, C::NotConnected),
        (
            EngineError::Refresh {
                name: name(),
                failure: record(50173),
            },
            C::ReconnectNeeded,
        ),
        (
            EngineError::Refresh {
                name: name(),
                failure: record(53003),
            },
            C::NeedsAdmin,
        ),
        (
            EngineError::Refresh {
                name: name(),
                failure: record(50196),
            },
            C::Transient,
        ),
        (
            EngineError::Stopped {
                name: name(),
                health: Health::ReconnectNeeded,
                failure: Some(record(700082)),
            },
            C::ReconnectNeeded,
        ),
        (
            EngineError::Stopped {
                name: name(),
                health: Health::NeedsAdmin,
                failure: Some(record(53003)),
            },
            C::NeedsAdmin,
        ),
        (
            EngineError::Stopped {
                name: name(),
                health: Health::NeverConnected,
                failure: None,
            },
            C::NotConnected,
        ),
        (
            EngineError::Deferred {
                name: name(),
                until: 1_700_000_060,
                failure: Some(record(50196)),
            },
            C::Deferred,
        ),
        (
            EngineError::Deferred {
                name: name(),
                until: 1_700_000_060,
                failure: None,
            },
            C::Deferred,
        ),
        (
            EngineError::Deferred {
                name: name(),
                until: 1_700_000_060,
                failure: Some(record(50173)),
            },
            C::ReconnectNeeded,
        ),
    ]
}

fn engine_other_cases() -> Vec<(EngineError, FailureCode)> {
    use FailureCode as C;
    let name = || "adele-mail".to_owned();
    vec![
        (
            EngineError::Endpoints {
                name: name(),
                source: reconnect_oauth::endpoints::EndpointError::BadTenant("a b".into()),
            },
            C::InvalidInput,
        ),
        (
            EngineError::Store(StoreError::UnknownAccount(name())),
            C::UnknownAccount,
        ),
        (
            EngineError::Vault(VaultError::Keychain(KeychainError::Locked { cause: None })),
            C::KeychainLocked,
        ),
        (
            EngineError::Lock(LockError::Timeout {
                waited: Duration::from_secs(30),
            }),
            C::Busy,
        ),
        (EngineError::Home(HomeError::Empty), C::Storage),
        (EngineError::Runtime(io("no threads")), C::Internal),
        (EngineError::Superseded { name: name() }, C::Busy),
        (
            EngineError::Unsaved { name: name() },
            C::KeychainUnavailable,
        ),
    ]
}

/// Every mapped library error: its failure and the code intended.
fn all_cases() -> Vec<(Failure, FailureCode)> {
    let mut out: Vec<(Failure, FailureCode)> = Vec::new();
    out.extend(
        keychain_cases()
            .into_iter()
            .map(|(e, c)| (Failure::from(e), c)),
    );
    out.extend(
        store_cases()
            .into_iter()
            .map(|(e, c)| (Failure::from(e), c)),
    );
    out.extend(
        engine_cases()
            .into_iter()
            .chain(engine_other_cases())
            .map(|(e, c)| (Failure::from(e), c)),
    );
    let grant = [
        (
            reconnect_store::GrantError::Vault(VaultError::Keychain(KeychainError::Locked {
                cause: None,
            })),
            FailureCode::KeychainLocked,
        ),
        (
            reconnect_store::GrantError::Store(StoreError::UnknownAccount("x".into())),
            FailureCode::UnknownAccount,
        ),
        (
            reconnect_store::GrantError::Metadata(StoreError::Corrupt("token_facts")),
            FailureCode::Storage,
        ),
        (
            reconnect_store::GrantError::Lock(LockError::Timeout {
                waited: Duration::from_secs(5),
            }),
            FailureCode::Busy,
        ),
    ];
    out.extend(grant.into_iter().map(|(e, c)| (Failure::from(e), c)));
    out.push((
        Failure::from(reconnect_core::decode::DecodeError::Empty),
        FailureCode::InvalidInput,
    ));
    out.push((
        Failure::from(crate::profile::ProfileError::BadName("../x".into())),
        FailureCode::InvalidInput,
    ));
    out.push((
        Failure::from(reconnect_sim::SimError::NotFound("no user x@y.test".into())),
        FailureCode::InvalidInput,
    ));
    out.push((
        Failure::from(reconnect_sim::SimError::Tls("no certificate".into())),
        FailureCode::Internal,
    ));
    out
}

#[test]
fn a_failure_reaches_the_webview_as_code_and_message() {
    let failure = Failure::from(KeychainError::Locked { cause: None });
    let json = serde_json::to_value(&failure).unwrap();
    let object = json.as_object().expect("an object");
    assert_eq!(object.len(), 2, "{json}");
    assert_eq!(json["code"], "keychain_locked");
    assert_eq!(json["message"], failure.message.as_str());
    let input = serde_json::to_value(Failure::invalid("enter a code")).unwrap();
    assert_eq!(
        input,
        serde_json::json!({ "code": "invalid_input", "message": "enter a code" })
    );
    assert_eq!(Failure::msg("x").code, FailureCode::Internal);
    assert_eq!(Failure::not_demo("x").code, FailureCode::NotDemo);
}

#[test]
fn each_library_error_maps_to_its_code() {
    for (failure, want) in all_cases() {
        assert_eq!(failure.code, want, "{}", failure.message);
        assert!(!failure.message.trim().is_empty(), "{want:?} has no words");
    }
}

#[test]
fn no_message_gives_cli_advice() {
    let mut messages: Vec<String> = all_cases().into_iter().map(|(f, _)| f.message).collect();
    messages.extend(signin_errors().iter().map(signin_message));
    for message in &messages {
        for advice in CLI_ADVICE {
            assert!(
                !message.contains(advice),
                "{advice:?} in an app message: {message}"
            );
        }
    }
}

#[test]
fn messages_keep_the_useful_cause() {
    let refresh = Failure::from(EngineError::Refresh {
        name: "adele-mail".into(),
        failure: record(50173),
    });
    assert!(
        refresh.message.contains("AADSTS50173"),
        "{}",
        refresh.message
    );
    assert!(
        refresh.message.contains("Reconnect the account"),
        "{}",
        refresh.message
    );
    let platform = Failure::from(KeychainError::Platform {
        cause: cause("the bus hung up"),
    });
    assert!(
        platform.message.contains("the bus hung up"),
        "{}",
        platform.message
    );
    let locked = Failure::from(KeychainError::Locked { cause: None });
    assert!(locked.message.contains("Unlock"), "{}", locked.message);
}

#[test]
fn credentials_in_a_url_never_reach_the_message() {
    let failure = Failure::from(StoreError::InvalidAccount(
        "\"https://admin:hunter2@id.example.com/x\" must not contain credentials".into(),
    ));
    assert!(!failure.message.contains("hunter2"), "{}", failure.message);
    assert!(!failure.message.contains("admin:"), "{}", failure.message);
    assert!(
        failure.message.contains("id.example.com"),
        "{}",
        failure.message
    );
    assert_eq!(
        mask_credentials("see http://a@b/ and ftp://c:d@e?x and mailto:f@g"),
        "see http://…@b/ and ftp://…@e?x and mailto:f@g"
    );
}

#[test]
fn a_profile_that_failed_to_open_keeps_its_code() {
    let failed = Failure::from(KeychainError::Locked { cause: None });
    let later = failed.clone().context("The profile could not be opened");
    assert_eq!(later.code, FailureCode::KeychainLocked);
    assert!(
        later
            .message
            .starts_with("The profile could not be opened: ")
    );
}

#[test]
fn codes_round_trip_under_their_snake_case_names() {
    let names: Vec<String> = FailureCode::ALL
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for (code, name) in FailureCode::ALL.iter().zip(&names) {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{name}"
        );
        let back: FailureCode = serde_json::from_value(serde_json::json!(name)).unwrap();
        assert_eq!(back, *code);
    }
    let unique: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
}

#[test]
fn every_code_the_ui_branches_on_exists() {
    let ui = [
        include_str!("../../../../ui/views/failure.js"),
        include_str!("../../../../ui/views/reconnect.js"),
        include_str!("../../../../ui/views/accounts.js"),
        include_str!("../../../../ui/views/detail.js"),
    ]
    .concat();
    for name in [
        "keychain_locked",
        "keychain_denied",
        "keychain_unavailable",
        "reconnect_needed",
        "not_connected",
        "busy",
        "not_running",
        "duplicate_name",
        "unknown_account",
    ] {
        assert!(ui.contains(name), "the UI no longer uses {name}");
        let code: Result<FailureCode, _> = serde_json::from_value(serde_json::json!(name));
        assert!(code.is_ok(), "the UI branches on {name}, which is no code");
    }
    assert!(include_str!("../../../../ui/api.js").contains("\"internal\""));
}

fn signin_errors() -> Vec<SigninError> {
    let mut cancelled_in_browser = decode_code(50173);
    cancelled_in_browser.error_subcode = Some("cancel".into());
    vec![
        SigninError::Cancelled,
        SigninError::TimedOut(Duration::from_secs(300)),
        SigninError::Refused(Box::new(cancelled_in_browser)),
        SigninError::Refused(Box::new(decode_code(50076))),
        SigninError::Store(Box::new(StoreError::Vault(VaultError::Keychain(
            KeychainError::Locked { cause: None },
        )))),
        SigninError::Store(Box::new(io("disk on fire"))),
        SigninError::Browser(BrowserError::BadCommand("'unbalanced".into())),
        SigninError::Listener(LoopbackError::PortsBusy("8400-8410".into())),
        SigninError::WrongIssuer {
            expected: "https://a.example".into(),
            found: "https://b.example".into(),
        },
        SigninError::NoIdToken,
        SigninError::WrongAccount {
            signed_in: "bianca@contoso.test".into(),
            owner: "adele@contoso.test".into(),
        },
        DeviceError::Declined.into(),
        DeviceError::Expired(Duration::from_secs(900)).into(),
        DeviceError::Blocked(Box::new(decode_code(53003))).into(),
        DeviceError::Unsupported.into(),
        DeviceError::BadCode.into(),
        PasteError::NotAnAddress.into(),
        PasteError::NotTheRedirect("example.com".into()).into(),
        PasteError::WrongState.into(),
        PasteError::NoAnswer.into(),
        SigninError::MissingIssuer {
            expected: "https://a.example".into(),
        },
        SigninError::NoRefreshToken,
    ]
}

#[test]
fn sign_in_endings_are_worded_for_the_app() {
    for err in signin_errors() {
        let text = signin_message(&err);
        let cancelled = err.outcome() == reconnect_signin::Outcome::Cancelled;
        assert_eq!(text.starts_with("Sign-in cancelled"), cancelled, "{text}");
    }
    let refused = signin_message(&SigninError::Refused(Box::new(decode_code(50076))));
    assert!(refused.starts_with("AADSTS50076 "), "{refused}");
    let locked = signin_message(&signin_errors()[4]);
    assert!(locked.contains("keychain is locked"), "{locked}");
    let wrong = signin_message(&signin_errors()[10]);
    assert!(wrong.contains("pick adele@contoso.test"), "{wrong}");
}

#[test]
fn another_devices_endings_say_what_happened_there() {
    let all = signin_errors();
    let declined = signin_message(&all[11]);
    assert!(
        declined.contains("declined on the other device"),
        "{declined}"
    );
    let expired = signin_message(&all[12]);
    assert!(expired.contains("within its 15 minutes"), "{expired}");
    let blocked = signin_message(&all[13]);
    assert!(
        blocked.contains("Conditional Access") && blocked.contains("AADSTS53003 "),
        "{blocked}"
    );
    assert_eq!(all[13].outcome(), reconnect_signin::Outcome::NeedsAdmin);
}
