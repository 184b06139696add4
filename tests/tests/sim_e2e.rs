//! End-to-end: the real `reconnect sim serve` on 127.0.0.1:0, controlled with
//! the real `reconnect sim` subcommands, spoken to over plain HTTP/1.1.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reconnect_e2e::harness::{TempHome, binary};
use reconnect_e2e::sim_process::{http, json_of, serve};

const CLIENT: &str = "e2e-client";

/// Runs `reconnect sim ARGS --url URL` and returns (exit ok, stdout).
fn ctl(home: &TempHome, url: &str, args: &[&str]) -> (bool, String) {
    let out = home
        .command(binary("reconnect"))
        .arg("sim")
        .args(args)
        .env("RECONNECT_SIM_URL", url)
        .output()
        .expect("run reconnect sim");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn grant(url: &str, upn: &str) -> String {
    let body = serde_json::json!({"upn": upn, "client_id": CLIENT, "scope": "openid offline_access User.Read"}).to_string();
    let (status, _, text) = http(
        url,
        "POST",
        "/_sim/grants",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(status, 200, "{text}");
    json_of(&text)["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned()
}

fn refresh(url: &str, rt: &str) -> (u16, serde_json::Value) {
    let form = format!("grant_type=refresh_token&client_id={CLIENT}&refresh_token={rt}");
    let (status, _, text) = http(
        url,
        "POST",
        "/common/oauth2/v2.0/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    (status, json_of(&text))
}

#[test]
fn serve_prints_its_urls_and_breaks_grants_on_command() {
    let home = TempHome::new();
    let served = serve(
        &home,
        &[
            "--addr",
            "127.0.0.1:0",
            "--user",
            "alice@contoso.test",
            "--user",
            "dave@contoso.test",
            "--app",
            CLIENT,
        ],
    );
    let url = served.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(served.line["https_url"].is_null() && served.line["ca_pem"].is_null());

    let (ok, users) = ctl(&home, &url, &["user", "list"]);
    assert!(ok);
    let upns: Vec<String> = json_of(&users)["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["upn"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        upns,
        vec!["alice@contoso.test", "dave@contoso.test"],
        "--user replaces the default users"
    );

    let rt = grant(&url, "alice@contoso.test");
    let (status, body) = refresh(&url, &rt);
    assert_eq!(status, 200, "{body}");
    let rotated = body["refresh_token"].as_str().expect("rotated").to_owned();

    let (ok, clock) = ctl(&home, &url, &["clock", "--advance", "91d"]);
    assert!(ok, "{clock}");
    assert_eq!(json_of(&clock)["offset_seconds"], 91 * 86_400);
    let (status, body) = refresh(&url, &rotated);
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], serde_json::json!([700082]));
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("\r\nCorrelation ID: "))
    );

    let fresh = grant(&url, "dave@contoso.test");
    assert!(
        ctl(
            &home,
            &url,
            &["fault", "AADSTS53003", "--upn", "dave@contoso.test"]
        )
        .0
    );
    let (status, body) = refresh(&url, &fresh);
    assert_eq!(
        (status, body["suberror"].as_str()),
        (400, Some("message_only"))
    );
    assert!(ctl(&home, &url, &["outage", "429", "--retry-after", "9"]).0);
    let form = format!("grant_type=refresh_token&client_id={CLIENT}&refresh_token={fresh}");
    let (status, head, _) = http(
        &url,
        "POST",
        "/common/oauth2/v2.0/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(status, 429);
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 9"),
        "{head}"
    );
    assert!(ctl(&home, &url, &["revoke", "dave@contoso.test"]).0);
    assert_eq!(
        refresh(&url, &fresh).1["error_codes"],
        serde_json::json!([50173])
    );

    let (ok, log) = ctl(&home, &url, &["log", "--json"]);
    assert!(ok);
    let statuses: Vec<u64> = json_of(&log)["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["grant_type"] == "refresh_token")
        .filter_map(|e| e["status"].as_u64())
        .collect();
    assert_eq!(
        statuses,
        vec![200, 400, 400, 429, 400],
        "every refresh attempt is logged"
    );
    let (ok, lines) = ctl(&home, &url, &["log"]);
    assert!(ok && lines.contains("AADSTS700082"), "{lines}");
    assert!(ctl(&home, &url, &["log", "--clear"]).0);
    assert_eq!(
        json_of(&ctl(&home, &url, &["log", "--json"]).1)["requests"],
        serde_json::json!([])
    );

    let (ok, _) = ctl(
        &home,
        &url,
        &["user", "set", "nobody@contoso.test", "--disabled", "true"],
    );
    assert!(!ok, "unknown users are an error");
}

#[test]
fn tls_writes_the_ca_and_auto_approve_redirects_with_a_code() {
    let home = TempHome::new();
    let ca_path = home.path().join("ca.pem");
    let served = serve(
        &home,
        &[
            "--tls",
            "--ca-out",
            ca_path.to_str().expect("utf-8 path"),
            "--auto-approve",
            "alice@contoso.test",
        ],
    );
    let https = served.line["https_url"].as_str().expect("https_url");
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    let pem = served.line["ca_pem"].as_str().expect("ca_pem");
    assert_eq!(std::fs::read_to_string(&ca_path).expect("ca file"), pem);

    let url = served.url();
    let path = format!(
        "/common/oauth2/v2.0/authorize?client_id={CLIENT}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A5000%2Fcb&scope=openid&state=xyz"
    );
    // Nobody registered the app yet: the sign-in ends on Entra's error page.
    let (status, _, body) = http(&url, "GET", &path, &[("Content-Type", "text/plain")], "");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("AADSTS700016"), "{body}");
    let (ok, added) = ctl(
        &home,
        &url,
        &["app", "add", CLIENT, "--redirect", "http://localhost/cb"],
    );
    assert!(ok, "{added}");

    let (status, head, _) = http(&url, "GET", &path, &[("Content-Type", "text/plain")], "");
    assert_eq!(status, 302, "{head}");
    let location = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .expect("location");
    assert!(
        location.contains("http://localhost:5000/cb?code="),
        "{location}"
    );
    assert!(location.contains("state=xyz"), "{location}");
}

#[test]
fn serve_refuses_non_loopback_addresses() {
    let home = TempHome::new();
    let out = home
        .command(binary("reconnect"))
        .args(["sim", "serve", "--addr", "0.0.0.0:0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing printed on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let out = home
        .command(binary("reconnect"))
        .args(["sim", "clock"])
        .env_remove("RECONNECT_SIM_URL")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RECONNECT_SIM_URL"));
}

#[test]
fn serve_stops_cleanly_on_interrupt() {
    let home = TempHome::new();
    let mut child = home
        .command(binary("reconnect"))
        .args(["sim", "serve"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("line");
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(
        status.success(),
        "Ctrl-C ends serve with success: {status:?}"
    );
}
