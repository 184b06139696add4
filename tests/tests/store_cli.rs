//! `reconnect add`, `import`, `accounts` and `remove` as a user runs them:
//! real binary, real SQLite, the real Secret Service (run the suite inside
//! `scripts/with-session.sh`), and the simulator for the refresh step.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reconnect_e2e::harness::{TempHome, binary, output_with_stdin};
use reconnect_e2e::secrets::SecretScanner;
use reconnect_sim::{AppRegistration, GrantRequest, SimConfig, Simulator};

/// Runs the CLI with `args`, feeding `stdin`, with trace logging on so any
/// log line that could leak is captured too.
fn reconnect(home: &TempHome, args: &[&str], stdin: &str) -> Output {
    output_with_stdin(
        home.command(binary("reconnect"))
            .args(args)
            .env("RECONNECT_LOG", "trace"),
        stdin,
    )
}

fn ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn failed(out: &Output, what: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "{what} should fail with exit 1");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn accounts_json(home: &TempHome) -> Vec<serde_json::Value> {
    let out = reconnect(home, &["accounts", "--json"], "");
    let text = ok(&out, "accounts --json");
    match serde_json::from_str(&text).expect("accounts --json is JSON") {
        serde_json::Value::Array(list) => list,
        other => panic!("expected an array: {other}"),
    }
}

#[test]
fn accounts_json_lists_what_add_and_import_created() {
    let home = TempHome::new();
    assert!(accounts_json(&home).is_empty());
    ok(
        &reconnect(
            &home,
            &[
                "add",
                "work",
                "--client-id",
                "11111111-2222",
                "--tenant",
                "contoso.com",
            ],
            "",
        ),
        "add work",
    );
    ok(
        &reconnect(
            &home,
            &[
                "add",
                "lab",
                "--provider",
                "oidc",
                "--authority",
                "http://127.0.0.1:8999/realms/lab",
                "--client-id",
                "lab-cli",
                "--scopes",
                "openid offline_access",
                "--redirect-ports",
                "8400-8410",
            ],
            "",
        ),
        "add lab",
    );
    let out = reconnect(
        &home,
        &["import", "work", "--refresh-token-stdin"],
        "0.AXoA-imported-rt-1234567\n",
    );
    let said = ok(&out, "import");
    assert!(said.contains("Imported a refresh token"), "{said}");

    let list = accounts_json(&home);
    assert_eq!(list.len(), 2);
    let lab = &list[0];
    let work = &list[1];
    assert_eq!(work["name"], "work");
    assert_eq!(work["provider"], "microsoft");
    assert_eq!(work["authority"], "https://login.microsoftonline.com");
    assert_eq!(work["tenant"], "contoso.com");
    assert_eq!(work["client_id"], "11111111-2222");
    assert_eq!(
        work["scopes"],
        serde_json::json!(["openid", "profile", "offline_access", "User.Read"])
    );
    assert!(
        work["token"].is_object(),
        "import recorded token facts: {work}"
    );
    assert_eq!(work["token"]["rotation_count"], 0);
    assert_eq!(lab["name"], "lab");
    assert_eq!(lab["provider"], "oidc");
    assert_eq!(lab["authority"], "http://127.0.0.1:8999/realms/lab");
    assert!(lab["tenant"].is_null());
    assert_eq!(
        lab["scopes"],
        serde_json::json!(["openid", "offline_access"])
    );
    assert_eq!(lab["redirect"]["port_min"], 8400);
    assert_eq!(lab["redirect"]["port_max"], 8410);
    assert!(lab["token"].is_null(), "nothing imported for lab");

    let table = ok(&reconnect(&home, &["accounts"], ""), "accounts");
    assert!(
        table.contains("work") && table.contains("stored"),
        "{table}"
    );

    let said = ok(&reconnect(&home, &["remove", "work"], ""), "remove");
    assert!(said.contains("keychain entries"), "{said}");
    let list = accounts_json(&home);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "lab");
    // The keychain entries went with it: a new "work" starts without tokens.
    ok(
        &reconnect(&home, &["add", "work", "--client-id", "x"], ""),
        "re-add",
    );
    let list = accounts_json(&home);
    assert!(list[1]["token"].is_null());
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let home = TempHome::new();
    ok(
        &reconnect(&home, &["add", "work", "--client-id", "a"], ""),
        "add",
    );
    let cases: &[(&[&str], &str, &str)] = &[
        (&["add", "work", "--client-id", "b"], "", "already exists"),
        (
            &[
                "add",
                "x",
                "--client-id",
                "b",
                "--authority",
                "http://login.example.com",
            ],
            "",
            "only https is accepted, except for a loopback host",
        ),
        (
            &["add", "x", "--client-id", "b", "--provider", "oidc"],
            "",
            "needs --authority",
        ),
        (
            &["add", "x", "--client-id", "b", "--authority", "nonsense"],
            "",
            "is not a URL",
        ),
        (&["remove", "ghost"], "", "no account named \"ghost\""),
        (
            &["import", "ghost", "--refresh-token-stdin"],
            "rt-abcdefghijkl",
            "no account named",
        ),
        (
            &["import", "work", "--refresh-token-stdin"],
            "   \n",
            "no refresh token",
        ),
        (
            &["import", "work", "--refresh-token-stdin"],
            "two tokens-abcdefghijkl",
            "exactly one refresh token",
        ),
    ];
    for (args, stdin, expect) in cases {
        let stderr = failed(&reconnect(&home, args, stdin), &args.join(" "));
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert!(!stderr.contains("abcdefghijkl"), "input echoed: {stderr}");
    }
    let list = accounts_json(&home);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["client_id"], "a");
    assert!(list[0]["token"].is_null());
}

#[test]
fn reconnect_home_selects_the_profile() {
    let one = TempHome::new();
    let two = TempHome::new();
    ok(
        &reconnect(&one, &["add", "only-here", "--client-id", "a"], ""),
        "add",
    );
    assert_eq!(accounts_json(&one).len(), 1);
    assert!(accounts_json(&two).is_empty());
    assert!(one.reconnect_home().join("reconnect.db").exists());
}

/// add → import → refresh against the simulator, then every file under the
/// temp home (RECONNECT_HOME included) and every line the CLI printed
/// (stdout, stderr with trace logging) is scanned for the tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_reaches_a_file_or_an_output_after_add_import_refresh() {
    let sim = Simulator::start(SimConfig {
        apps: vec![AppRegistration::desktop("store-cli-test")],
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let grant = sim
        .state
        .mint_grant(
            &GrantRequest {
                upn: "alice@contoso.test".into(),
                client_id: "store-cli-test".into(),
                scope: "openid profile offline_access User.Read".into(),
                spa: false,
                mfa: false,
            },
            &sim.http_url,
        )
        .expect("mint");
    let mut scanner = SecretScanner::new();
    scanner.add_token_response("alice", &grant);
    assert!(scanner.len() >= 2, "the grant has tokens to look for");
    let refresh_token = grant["refresh_token"].as_str().expect("refresh token");

    let home = TempHome::new();
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let add = reconnect(
        &home,
        &[
            "add",
            "alice",
            "--authority",
            sim.http_url.trim_end_matches('/'),
            "--tenant",
            "organizations",
            "--client-id",
            "store-cli-test",
        ],
        "",
    );
    ok(&add, "add");
    outputs.push(("add".into(), add));
    let import = reconnect(
        &home,
        &["import", "alice", "--refresh-token-stdin"],
        refresh_token,
    );
    ok(&import, "import");
    outputs.push(("import".into(), import));

    let refresh = reconnect(&home, &["refresh", "alice"], "");
    ok(&refresh, "refresh");
    outputs.push(("refresh".into(), refresh));
    assert!(
        sim.state.log().iter().any(|e| e.endpoint == "token"
            && e.grant_type.as_deref() == Some("refresh_token")
            && e.status == 200),
        "the imported refresh token was redeemed at the simulator"
    );
    let list = accounts_json(&home);
    assert!(
        list[0]["token"]["access_expires_at"].is_i64(),
        "the refresh stored a new access token: {}",
        list[0]
    );
    // The refresh fetched a new access token: look for it too. `token`
    // prints it on stdout by design, so that one stream is left out.
    let token = reconnect(&home, &["token", "alice"], "");
    let access = ok(&token, "token").trim().to_owned();
    assert!(access.len() > 20, "an access token on stdout");
    scanner.add("access token after refresh", &access);
    outputs.push((
        "token (stderr only)".into(),
        Output {
            stdout: Vec::new(),
            ..token
        },
    ));
    outputs.push((
        "accounts --json".into(),
        reconnect(&home, &["accounts", "--json"], ""),
    ));
    outputs.push(("accounts".into(), reconnect(&home, &["accounts"], "")));

    let mut report = scanner.scan_path(home.path()).expect("scan the temp home");
    for (what, out) in &outputs {
        report.merge(scanner.scan_bytes(&format!("{what} stdout"), &out.stdout));
        report.merge(scanner.scan_bytes(&format!("{what} stderr"), &out.stderr));
    }
    report.assert_clean("add → import → refresh");
    assert!(
        home.reconnect_home().join("reconnect.db").exists(),
        "the scan covered the database"
    );
    sim.shutdown().await;
}

#[test]
fn import_keeps_the_token_off_the_command_line() {
    // The only way in is stdin: a token argument is refused by the parser.
    let home = TempHome::new();
    ok(
        &reconnect(&home, &["add", "work", "--client-id", "a"], ""),
        "add",
    );
    let out = Command::new(binary("reconnect"))
        .args(["import", "work", "--refresh-token", "0.AXoA-abcdefghijkl"])
        .env("RECONNECT_HOME", home.reconnect_home())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let out = reconnect(&home, &["import", "work"], "");
    assert!(!out.status.success(), "--refresh-token-stdin is required");
}

/// Several `reconnect` processes at once: parallel `add`s all land, and
/// parallel `import`s of different valid refresh tokens into one account
/// leave one complete token set that the simulator accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_processes_share_the_database_and_the_keychain() {
    let sim = Simulator::start(SimConfig {
        apps: vec![AppRegistration::desktop("parallel-test")],
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let home = TempHome::new();
    let spawn = |args: Vec<String>| {
        home.command(binary("reconnect"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let adds: Vec<_> = (0..6)
        .map(|i| {
            spawn(vec![
                "add".into(),
                format!("acct-{i}"),
                "--client-id".into(),
                "c".into(),
            ])
        })
        .collect();
    for child in adds {
        let out = child.wait_with_output().expect("wait");
        ok(&out, "parallel add");
    }
    assert_eq!(accounts_json(&home).len(), 6);

    ok(
        &reconnect(
            &home,
            &[
                "add",
                "alice",
                "--authority",
                sim.http_url.trim_end_matches('/'),
                "--client-id",
                "parallel-test",
            ],
            "",
        ),
        "add alice",
    );
    let imports: Vec<_> = (0..4)
        .map(|_| {
            let grant = sim
                .state
                .mint_grant(
                    &GrantRequest {
                        upn: "alice@contoso.test".into(),
                        client_id: "parallel-test".into(),
                        scope: "openid profile offline_access User.Read".into(),
                        spa: false,
                        mfa: false,
                    },
                    &sim.http_url,
                )
                .expect("mint");
            let mut child = spawn(vec![
                "import".into(),
                "alice".into(),
                "--refresh-token-stdin".into(),
            ]);
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(grant["refresh_token"].as_str().expect("rt").as_bytes())
                .expect("write");
            child
        })
        .collect();
    for child in imports {
        ok(&child.wait_with_output().expect("wait"), "parallel import");
    }
    ok(
        &reconnect(&home, &["refresh", "alice"], ""),
        "refresh after parallel imports",
    );
    sim.shutdown().await;
}

/// At a terminal, `import` reads the token with echo off: typed or pasted,
/// it never appears on the screen. The terminal is a real pseudo-terminal
/// (util-linux `script`), whose output is everything a user would see.
#[test]
fn import_at_a_terminal_does_not_echo_the_token() {
    use std::io::Read as _;
    let home = TempHome::new();
    ok(
        &reconnect(&home, &["add", "work", "--client-id", "a"], ""),
        "add",
    );
    let token = "0.AXoA-typed-at-a-terminal-98765";
    let line = format!(
        "{} import work --refresh-token-stdin",
        binary("reconnect").display()
    );
    let mut child = home
        .command("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the command in a pseudo-terminal");
    // A prompt that never comes, or a reader waiting for more than one
    // line, is stopped.
    let pid = child.id();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").arg(pid.to_string()).status();
    });
    let mut screen = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 512];
    while !String::from_utf8_lossy(&seen).contains("(not shown)") {
        let n = screen.read(&mut buf).expect("read the terminal");
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let mut keys = child.stdin.take().expect("stdin");
    keys.write_all(format!("{token}\n").as_bytes())
        .expect("type");
    screen
        .read_to_end(&mut seen)
        .expect("the rest of the screen");
    drop(keys);
    let status = child.wait().expect("wait");
    let screen = String::from_utf8_lossy(&seen);
    assert!(status.success(), "import at a terminal failed: {screen}");
    assert!(screen.contains("Imported a refresh token"), "{screen}");
    assert!(
        !screen.contains(token),
        "the token was echoed to the terminal: {screen}"
    );
}
