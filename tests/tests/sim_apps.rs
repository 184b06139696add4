//! End-to-end: app registrations through the real `reconnect sim app`
//! subcommands against the real `reconnect sim serve`, and what the token
//! endpoint then answers: a registered single-page app signs in and rotates
//! strictly; a removed or unknown app is refused with AADSTS700016.

use std::process::Output;

use reconnect_e2e::harness::{TempHome, binary, output_with_stdin};
use reconnect_e2e::sim_process::{http, json_of, serve};

const UPN: &str = "alice@contoso.test";
const SPA: &str = "e2e-spa-app";
const ORIGIN: &str = "http://localhost:5000";
/// Registers the single-page app: its redirect under `spa`, strict rotation.
const ADD_SPA: &[&str] = &[
    "app",
    "add",
    SPA,
    "--redirect",
    "http://localhost/spa=spa",
    "--rotation",
    "strict",
];

/// Runs `reconnect sim ARGS` against `url`, with `stdin` piped in.
fn ctl_with(home: &TempHome, url: &str, args: &[&str], stdin: &str) -> Output {
    output_with_stdin(
        home.command(binary("reconnect"))
            .arg("sim")
            .args(args)
            .env("RECONNECT_SIM_URL", url),
        stdin,
    )
}

/// Runs `reconnect sim ARGS` and returns its stdout; panics when it fails.
fn ctl(home: &TempHome, url: &str, args: &[&str]) -> String {
    let out = ctl_with(home, url, args, "");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "reconnect sim {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A token request as a browser sends it (with `Origin`) or as a desktop app does.
fn token(url: &str, form: &str, origin: bool) -> (u16, serde_json::Value) {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if origin {
        headers.push(("Origin", ORIGIN));
    }
    let (status, _, body) = http(url, "POST", "/common/oauth2/v2.0/token", &headers, form);
    (status, json_of(&body))
}

fn refresh(url: &str, client_id: &str, rt: &str, origin: bool) -> (u16, serde_json::Value) {
    let form = format!(
        "grant_type=refresh_token&client_id={client_id}&refresh_token={rt}&scope=openid%20offline_access%20User.Read"
    );
    token(url, &form, origin)
}

fn refresh_token_of(status: u16, body: &serde_json::Value) -> String {
    assert_eq!(status, 200, "{body}");
    body["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

/// Signs in to the single-page app (auto-approve) and redeems the code as a
/// browser would; returns the refresh token.
fn sign_in_spa(url: &str) -> String {
    let redirect = "http%3A%2F%2Flocalhost%3A5000%2Fspa";
    let path = format!(
        "/common/oauth2/v2.0/authorize?client_id={SPA}&response_type=code&redirect_uri={redirect}&scope=openid%20offline_access%20User.Read&state=s1&code_challenge=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG&code_challenge_method=plain"
    );
    let (status, head, _) = http(url, "GET", &path, &[], "");
    assert_eq!(status, 302, "{head}");
    let location = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
        })
        .map(|(_, v)| v.trim().to_owned())
        .expect("location");
    let parsed = url::Url::parse(&location).expect("redirect URL");
    let code = parsed
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    let form = format!(
        "grant_type=authorization_code&client_id={SPA}&code={code}&redirect_uri={redirect}&code_verifier=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    );
    let (status, body) = token(url, &form, true);
    refresh_token_of(status, &body)
}

fn assert_unknown_app(status: u16, body: &serde_json::Value) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([700016]), "{body}");
}

/// Checks `sim app list --json` and the table for the two registered apps.
fn check_listing(home: &TempHome, url: &str) {
    let list = json_of(&ctl(home, url, &["app", "list", "--json"]));
    let mut keys: Vec<&String> = list.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(keys, ["apps", "strict"], "{list}");
    assert_eq!(list["strict"], true);
    let ids: Vec<&str> = list["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["client_id"].as_str())
        .collect();
    assert_eq!(ids, ["e2e-desktop-app", SPA], "sorted by client id");
    let spa = &list["apps"][1];
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!([{"uri": "http://localhost/spa", "platform": "spa"}])
    );
    assert_eq!(
        (spa["rotation"].as_str(), spa["sign_in_audience"].as_str()),
        (Some("strict"), Some("multi"))
    );
    assert_eq!(spa["public_client_flows"], true);
    assert_eq!(spa["custom_signing_key"], false);
    assert!(spa.get("client_secret").is_none(), "{spa}");
    let table = ctl(home, url, &["app", "list"]);
    assert!(
        table.contains(SPA) && table.contains("http://localhost/spa (spa)"),
        "{table}"
    );
}

#[test]
fn a_registered_spa_rotates_strictly_and_a_removed_app_is_refused() {
    let home = TempHome::new();
    let sim = serve(&home, &["--auto-approve", UPN, "--app", "e2e-desktop-app"]);
    let url = &sim.url();

    let added = json_of(&ctl(&home, url, ADD_SPA));
    assert_eq!(added["client_id"], SPA);
    check_listing(&home, url);

    let rt1 = sign_in_spa(url);
    let (status, body) = refresh(url, SPA, &rt1, false);
    assert_eq!(
        body["error_codes"],
        serde_json::json!([9002327]),
        "SPA grants need an Origin ({status})"
    );
    let (status, body) = refresh(url, SPA, &rt1, true);
    let rt2 = refresh_token_of(status, &body);

    let removed = ctl(&home, url, &["app", "remove", SPA]);
    assert!(removed.contains(SPA), "{removed}");
    let (status, body) = refresh(url, SPA, &rt2, true);
    assert_unknown_app(status, &body);
    let again = ctl_with(&home, url, &["app", "remove", SPA], "");
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("reconnect sim app list"), "{stderr}");

    // Registered again, the grant works: the 700016 was the app's, not the token's.
    ctl(&home, url, ADD_SPA);
    let (status, body) = refresh(url, SPA, &rt2, true);
    refresh_token_of(status, &body);
    let (status, body) = refresh(url, SPA, &rt2, true);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "strict rotation: {body}"
    );

    let (status, body) = refresh(url, "never-registered", &rt2, false);
    assert_unknown_app(status, &body);
    let desktop = http(
        url,
        "POST",
        "/_sim/grants",
        &[("Content-Type", "application/json")],
        &serde_json::json!({"upn": UPN, "client_id": "e2e-desktop-app", "scope": "openid offline_access User.Read"})
            .to_string(),
    );
    assert_eq!(
        desktop.0, 200,
        "--app registered a desktop app: {}",
        desktop.2
    );
    let rt = json_of(&desktop.2)["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    let (status, body) = refresh(url, "e2e-desktop-app", &rt, false);
    refresh_token_of(status, &body);
}

#[test]
fn web_apps_take_their_secret_from_stdin_and_never_show_it() {
    let home = TempHome::new();
    let sim = serve(&home, &[]);
    let url = &sim.url();
    let args = [
        "app",
        "add",
        "e2e-web-app",
        "--redirect",
        "https://app.test/cb=web",
    ];
    let refused = ctl_with(&home, url, &args, "");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--secret-stdin"), "{stderr}");

    let mut with_secret = args.to_vec();
    with_secret.push("--secret-stdin");
    let added = ctl_with(&home, url, &with_secret, "e2e-hunter2\n");
    let stdout = String::from_utf8_lossy(&added.stdout);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(!stdout.contains("e2e-hunter2"), "{stdout}");
    let listed = ctl(&home, url, &["app", "list", "--json"]);
    assert!(
        !listed.contains("e2e-hunter2") && listed.contains("e2e-web-app"),
        "{listed}"
    );
}

#[test]
fn lenient_serve_answers_apps_nobody_registered() {
    let home = TempHome::new();
    let sim = serve(&home, &["--lenient"]);
    let url = &sim.url();
    let list = json_of(&ctl(&home, url, &["app", "list", "--json"]));
    assert_eq!(list, serde_json::json!({"apps": [], "strict": false}));
    let table = ctl(&home, url, &["app", "list"]);
    assert!(table.contains("Lenient"), "{table}");
    let form = "grant_type=refresh_token&client_id=anything-goes&refresh_token=not-a-token";
    let (status, body) = token(url, form, false);
    assert_eq!(status, 400);
    assert_ne!(body["error_codes"], serde_json::json!([700016]), "{body}");
}
