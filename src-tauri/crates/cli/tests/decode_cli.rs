//! `reconnect decode` as a user runs it: the real binary, argument and stdin
//! input, the exact JSON key set, the readable block, and the empty-input error.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_reconnect");

const CONTRACT_KEYS: [&str; 19] = [
    "admin_message",
    "category",
    "claims_challenge",
    "codes",
    "correlation_id",
    "doc_url",
    "error",
    "known",
    "next_steps",
    "primary_code",
    "reconnect_fixes",
    "retry_after_seconds",
    "suberror",
    "timestamp",
    "title",
    "trace_id",
    "transient",
    "user_message",
    "who_acts",
];

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .arg("decode")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .unwrap_or_else(|e| panic!("stdin: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

fn json_of(out: &Output) -> serde_json::Map<String, serde_json::Value> {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!(
            "not a JSON object: {other:?} from {}",
            String::from_utf8_lossy(&out.stdout)
        ),
    }
}

#[test]
fn json_output_has_exactly_the_contract_keys() {
    let body = r#"{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2024-07-01 09:15:42Z","error_codes":[50076],"suberror":"basic_action","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"p\"]}}}"}"#;
    let map = json_of(&run(&["--json", body], None));
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, CONTRACT_KEYS);
    assert_eq!(map["primary_code"], 50076);
    assert_eq!(map["codes"], serde_json::json!([50076]));
    assert_eq!(map["error"], "invalid_grant");
    assert_eq!(map["suberror"], "basic_action");
    assert_eq!(map["who_acts"], "user");
    assert_eq!(map["reconnect_fixes"], "yes");
    assert_eq!(map["transient"], false);
    assert_eq!(map["retry_after_seconds"], serde_json::Value::Null);
    assert_eq!(map["trace_id"], "t-1");
    assert_eq!(map["correlation_id"], "c-1");
    assert_eq!(map["timestamp"], "2024-07-01 09:15:42Z");
    assert!(
        map["claims_challenge"]
            .as_str()
            .is_some_and(|c| c.contains("capolids"))
    );
    assert_eq!(
        map["doc_url"],
        "https://login.microsoftonline.com/error?code=50076"
    );
    assert_eq!(map["known"], true);
    assert!(map["next_steps"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn stdin_is_read_with_dash_or_no_argument() {
    for args in [&["--json", "-"][..], &["--json"][..]] {
        let map = json_of(&run(args, Some("AADSTS53003\n")));
        assert_eq!(map["primary_code"], 53003);
        assert_eq!(map["who_acts"], "admin");
        assert_eq!(map["reconnect_fixes"], "no");
    }
}

#[test]
fn unknown_codes_still_decode_with_known_false() {
    let map = json_of(&run(
        &["--json", "invalid_grant: AADSTS4242424: something new"],
        None,
    ));
    assert_eq!(map["known"], false);
    assert_eq!(map["primary_code"], 4242424);
    assert_eq!(map["error"], "invalid_grant");
}

#[test]
fn readable_block_without_json() {
    let out = run(&["700082"], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("AADSTS700082 · "), "{text}");
    for label in [
        "Who acts:",
        "Reconnect fixes:",
        "For the user:",
        "For the admin:",
        "Next steps:",
    ] {
        assert!(text.contains(label), "missing {label} in {text}");
    }
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
}

#[test]
fn empty_input_is_a_clear_error() {
    for (args, stdin) in [
        (&["--json", ""][..], None),
        (&["--json"][..], Some("  \n")),
        (&[][..], Some("")),
    ] {
        let out = run(args, stdin);
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("nothing to decode"), "{err}");
    }
}
