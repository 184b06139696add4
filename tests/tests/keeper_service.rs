//! `reconnect service install | status | uninstall` on Linux, in an isolated
//! `XDG_CONFIG_HOME` with no user systemd: the unit lands where systemd
//! looks for user units, names this binary and profile, passes
//! `systemd-analyze verify`, and the command says what to run to start it.

use std::process::{Command, Output, Stdio};

use reconnect_e2e::harness::{TempHome, assert_success, binary};

fn service(home: &TempHome, action: &str) -> Output {
    home.command(binary("reconnect"))
        .args(["service", action])
        // No user systemd here: its runtime directory is empty and no bus.
        .env("XDG_RUNTIME_DIR", home.path().join("state"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::null())
        .output()
        .expect("run reconnect service")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_installed_unit_verifies_and_names_this_binary_and_profile() {
    let home = TempHome::new();
    let install = service(&home, "install");
    assert_success(&install, "service install");
    let said = stdout(&install);
    assert!(
        said.contains("systemctl --user enable --now reconnect-keep.service"),
        "says what to run without a user systemd: {said}"
    );
    let unit = home
        .path()
        .join("config/systemd/user/reconnect-keep.service");
    let text = std::fs::read_to_string(&unit).expect("the unit is written");
    let program = std::fs::canonicalize(binary("reconnect")).expect("binary");
    assert!(
        text.contains(&format!("ExecStart=\"{}\" keep", program.display())),
        "{text}"
    );
    let profile = std::fs::canonicalize(home.reconnect_home()).expect("profile");
    assert!(
        text.contains(&format!(
            "Environment=\"RECONNECT_HOME={}\"",
            profile.display()
        )),
        "{text}"
    );

    let verify = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit)
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .expect("systemd-analyze is installed (Debian: the systemd package)");
    assert_success(&verify, "systemd-analyze verify");
    assert!(
        verify.stderr.is_empty(),
        "no complaints: {}",
        String::from_utf8_lossy(&verify.stderr)
    );

    let status = service(&home, "status");
    assert_success(&status, "service status");
    let said = stdout(&status);
    assert!(said.contains("Installed:"), "{said}");
    assert!(said.contains("cannot tell whether it runs"), "{said}");

    let uninstall = service(&home, "uninstall");
    assert_success(&uninstall, "service uninstall");
    assert!(!unit.exists(), "the unit is removed");
    assert!(stdout(&service(&home, "status")).contains("Not installed"));
}
