//! The `on_event` runner with real programs (`sh`), an engine on a temp
//! directory, and events sent the way a refresh sends them.

use std::path::Path;
use std::sync::Arc;

use reconnect_core::health::{Health, Notice};
use reconnect_store::{Home, MemoryKeychain, MemoryVault};

use super::*;

fn sh(script: &str, timeout: Duration) -> EventHook {
    EventHook::new(
        vec!["sh".into(), "-c".into(), script.into(), "hook".into()],
        timeout,
    )
    .expect("a program")
}

fn occurrence(event: HookEvent) -> Occurrence {
    Occurrence {
        event,
        account: "work".into(),
        code: None,
        title: None,
    }
}

fn engine(dir: &Path) -> Engine {
    Engine::builder(Home::at(dir).expect("home"))
        .vault(Arc::new(MemoryVault::new(MemoryKeychain::new())))
        .build()
        .expect("engine")
}

#[test]
fn each_engine_event_has_its_name_or_none() {
    let health = |notice| EngineEvent::HealthChanged {
        account: "work".into(),
        from: Health::Healthy,
        to: Health::Healthy,
        notice,
    };
    let cases = [
        (
            EngineEvent::Refreshed {
                account: "work".into(),
            },
            Some("refreshed"),
        ),
        (
            EngineEvent::UnsavedCredentials {
                account: "work".into(),
            },
            Some("unsaved_credentials"),
        ),
        (health(Some(Notice::ExpiringSoon)), Some("expiring_soon")),
        (
            health(Some(Notice::ReconnectNeeded)),
            Some("reconnect_needed"),
        ),
        (health(Some(Notice::NeedsAdmin)), Some("needs_admin")),
        (health(Some(Notice::AppMisconfigured)), Some("needs_admin")),
        (health(Some(Notice::Unreachable)), Some("unreachable")),
        (health(Some(Notice::Recovered)), Some("recovered")),
        (health(None), None),
        (
            EngineEvent::CredentialsSaved {
                account: "work".into(),
            },
            None,
        ),
    ];
    for (event, name) in cases {
        let got = HookEvent::of(&event);
        assert_eq!(got.map(|(e, _)| e.name()), name, "{event:?}");
        assert!(got.is_none_or(|(_, account)| account == "work"));
    }
}

#[tokio::test]
async fn the_program_hears_the_event_and_account_and_no_secret() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("env");
    let script = format!("env > '{}'", out.display());
    let hook = sh(&script, DEFAULT_TIMEOUT);
    let mut seen = occurrence(HookEvent::ReconnectNeeded);
    seen.code = Some("AADSTS700082".into());
    seen.title = Some("The refresh token expired from inactivity".into());
    hook.run(&seen).await.expect("the program ran");
    let env = std::fs::read_to_string(&out).expect("the program wrote its environment");
    for line in [
        "RECONNECT_EVENT=reconnect_needed",
        "RECONNECT_ACCOUNT=work",
        "RECONNECT_CODE=AADSTS700082",
        "RECONNECT_TITLE=The refresh token expired from inactivity",
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing:\n{env}");
    }
    hook.run(&occurrence(HookEvent::Refreshed))
        .await
        .expect("again");
    let env = std::fs::read_to_string(&out).expect("env");
    assert!(!env.contains("RECONNECT_CODE"), "{env}");
}

#[test]
fn secret_looking_variables_are_recognised() {
    let secret = |name: &str, value: &str| looks_secret(OsStr::new(name), OsStr::new(value));
    assert!(secret("GITHUB_TOKEN", "x"));
    assert!(secret("AZURE_CLIENT_SECRET", "x"));
    assert!(secret("MY_API_KEY", "x"));
    assert!(secret(
        "SOMETHING",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
    ));
    assert!(secret("HEADER", "Bearer abc"));
    assert!(!secret("PATH", "/usr/bin:/bin"));
    assert!(!secret(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/run/user/1000/bus"
    ));
    assert!(!secret("XAUTHORITY", "/home/me/.Xauthority"));
}

#[tokio::test]
async fn a_failing_program_and_a_missing_one_are_errors() {
    let failing = sh("exit 3", DEFAULT_TIMEOUT);
    let err = failing
        .run(&occurrence(HookEvent::Refreshed))
        .await
        .expect_err("exit 3 is a failure");
    assert!(matches!(err, HookError::Exit(status) if status.code() == Some(3)));
    let missing = EventHook::new(vec!["/nonexistent/reconnect-hook".into()], DEFAULT_TIMEOUT)
        .expect("a program");
    let err = missing
        .run(&occurrence(HookEvent::Refreshed))
        .await
        .expect_err("not found");
    assert!(matches!(err, HookError::Start(_)), "{err:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_program_past_its_time_is_stopped_with_what_it_started() {
    let dir = tempfile::tempdir().expect("dir");
    let pid_file = dir.path().join("pid");
    let script = format!("sleep 600 & echo $! > '{}'; wait", pid_file.display());
    let hook = sh(&script, Duration::from_secs(1));
    let err = hook
        .run(&occurrence(HookEvent::Refreshed))
        .await
        .expect_err("it hangs");
    assert!(matches!(err, HookError::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("after 1 s"), "{err}");
    let pid = std::fs::read_to_string(&pid_file).expect("the program started sleep");
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    // The group was sent SIGKILL; the kernel ends each process when it next
    // runs, which on a busy machine can be a moment later. A killed child
    // may then linger as a zombie until init reaps it; it must not run on.
    let running = || {
        std::fs::read_to_string(&stat)
            .map(|stat| !stat.contains(") Z") && !stat.contains(") X"))
            .unwrap_or(false)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while running() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!running(), "the program's child survived the timeout");
}

#[tokio::test]
async fn the_runner_runs_the_program_for_each_event_in_order_even_after_a_hang() {
    let dir = tempfile::tempdir().expect("dir");
    let engine = engine(dir.path());
    let log = dir.path().join("log");
    let script = format!(
        "echo \"$RECONNECT_EVENT $RECONNECT_ACCOUNT\" >> '{}'; \
         [ \"$RECONNECT_ACCOUNT\" != slow ] || sleep 600",
        log.display()
    );
    let runner = HookRunner::start(&engine, sh(&script, Duration::from_secs(1)));
    for account in ["slow", "work"] {
        engine.emit(EngineEvent::Refreshed {
            account: account.into(),
        });
    }
    engine.emit(EngineEvent::CredentialsSaved {
        account: "work".into(),
    });
    engine.emit(EngineEvent::UnsavedCredentials {
        account: "work".into(),
    });
    runner.finish(None).await;
    let lines = std::fs::read_to_string(&log).expect("log");
    assert_eq!(
        lines,
        "refreshed slow\nrefreshed work\nunsaved_credentials work\n"
    );
}
