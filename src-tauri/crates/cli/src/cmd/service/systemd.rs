//! The systemd user unit that runs `reconnect keep`.
//!
//! The unit restarts the keeper when it fails (not when another keeper holds
//! the profile: exit 5 is final), and is hardened only in ways that leave the
//! user's session bus reachable: the keychain (Secret Service) and desktop
//! notifications live there, and the data lives in the home directory, so
//! nothing that hides the home, a private `/tmp` or a mount namespace is used.

use std::path::{Path, PathBuf};

use super::{Plan, ServiceError};

/// The unit's file name.
pub const UNIT: &str = "reconnect-keep.service";

/// Where a value goes in the unit: `ExecStart=` expands `$`, the others not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Exec,
    Environment,
}

/// `value` as one double-quoted word systemd reads back unchanged.
fn quote(value: &str, field: Field) -> Option<String> {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '%' => out.push_str("%%"),
            '$' if field == Field::Exec => out.push_str("$$"),
            c if c.is_control() => return None,
            c => out.push(c),
        }
    }
    out.push('"');
    Some(out)
}

fn path_word(path: &Path, field: Field) -> Result<String, ServiceError> {
    path.to_str()
        .and_then(|p| quote(p, field))
        .ok_or_else(|| ServiceError::Unrepresentable(path.to_owned()))
}

/// The unit's text for `plan`.
pub fn unit_text(plan: &Plan) -> Result<String, ServiceError> {
    let program = path_word(&plan.program, Field::Exec)?;
    let environment = match &plan.home {
        Some(home) => {
            let assignment = format!("RECONNECT_HOME={}", home.display());
            let word = quote(&assignment, Field::Environment)
                .ok_or_else(|| ServiceError::Unrepresentable(home.clone()))?;
            format!("Environment={word}\n")
        }
        None => String::new(),
    };
    Ok(format!(
        "# Written by `reconnect service install`; `reconnect service uninstall` removes it.
[Unit]
Description=Reconnect: keep OAuth connections alive

[Service]
Type=exec
ExecStart={program} keep
{environment}Restart=on-failure
RestartSec=30
# 5: another keeper (the app, another `reconnect keep`) has the profile.
RestartPreventExitStatus=5
TimeoutStopSec=15
UMask=0077
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native

[Install]
WantedBy=default.target
"
    ))
}

/// `$XDG_CONFIG_HOME/systemd/user/reconnect-keep.service` (the variable only
/// when it is an absolute path, as the spec says), else under `~/.config`.
pub fn unit_path() -> Result<PathBuf, ServiceError> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or(ServiceError::NoConfigDir("XDG_CONFIG_HOME"))?;
    Ok(config.join("systemd").join("user").join(UNIT))
}

#[cfg(target_os = "linux")]
mod manage {
    //! Installing, removing and checking the unit with `systemctl --user`.

    use super::super::{Plan, ServiceError, keeper_line, manager, remove_file, write_file};
    use super::{UNIT, unit_path, unit_text};

    fn systemctl(args: &[&str]) -> Result<String, ServiceError> {
        let mut all = vec!["--user"];
        all.extend_from_slice(args);
        manager("systemctl", &all)
    }

    /// Writes the unit; enables and starts it when the user's systemd runs.
    pub fn install(plan: &Plan) -> Result<(), ServiceError> {
        let path = unit_path()?;
        write_file(&path, unit_text(plan)?.as_bytes())?;
        println!("Wrote {}", path.display());
        if systemctl(&["daemon-reload"]).is_err() {
            println!(
                "systemd's user manager is not reachable here, so the service is not started. \
                 Where it is, run:\n  systemctl --user daemon-reload\n  \
                 systemctl --user enable --now {UNIT}"
            );
            return Ok(());
        }
        systemctl(&["enable", UNIT])?;
        systemctl(&["restart", UNIT])?;
        println!("Enabled at login and started. Its log: journalctl --user -u {UNIT}");
        Ok(())
    }

    /// Stops and disables the unit (when systemd is reachable) and removes it.
    pub fn uninstall() -> Result<(), ServiceError> {
        let path = unit_path()?;
        let reachable = systemctl(&["daemon-reload"]).is_ok();
        if reachable && path.exists() {
            systemctl(&["disable", "--now", UNIT])?;
        }
        if !remove_file(&path)? {
            println!(
                "No service was installed ({} does not exist).",
                path.display()
            );
            return Ok(());
        }
        if reachable {
            systemctl(&["daemon-reload"])?;
            println!("Stopped, disabled and removed {}", path.display());
        } else {
            println!(
                "Removed {}. systemd's user manager is not reachable here; if it runs the \
                 service elsewhere, stop it there with: systemctl --user disable --now {UNIT}",
                path.display()
            );
        }
        Ok(())
    }

    /// Says whether the unit is installed and whether it runs.
    pub fn status() -> Result<(), ServiceError> {
        let path = unit_path()?;
        let text = std::fs::read_to_string(&path).ok();
        let Some(text) = text else {
            println!("Not installed ({} does not exist).", path.display());
            println!("{}", keeper_line(None));
            return Ok(());
        };
        println!("Installed: {}", path.display());
        let home = text
            .lines()
            .find_map(|l| l.strip_prefix("Environment=\"RECONNECT_HOME="))
            .map(|h| h.trim_end_matches('"').replace("%%", "%"));
        let state = std::process::Command::new("systemctl")
            .args(["--user", "is-active", UNIT])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output();
        match state {
            Ok(out) if !out.stdout.is_empty() => {
                let state = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let running = if state == "active" {
                    "running"
                } else {
                    "not running"
                };
                println!("Service: {running} (systemd says {state})");
            }
            _ => println!(
                "Service: cannot tell whether it runs (systemd's user manager is not reachable)"
            ),
        }
        println!("{}", keeper_line(home.as_deref().map(std::path::Path::new)));
        Ok(())
    }
}

#[cfg(target_os = "linux")]
pub use manage::{install, status, uninstall};

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(program: &str, home: Option<&str>) -> Plan {
        Plan {
            program: program.into(),
            home: home.map(PathBuf::from),
        }
    }

    #[test]
    fn the_unit_runs_this_binary_for_this_profile() {
        let text = unit_text(&plan("/opt/re connect/reconnect", Some("/home/me/a b"))).unwrap();
        assert!(
            text.contains("ExecStart=\"/opt/re connect/reconnect\" keep\n"),
            "{text}"
        );
        assert!(
            text.contains("Environment=\"RECONNECT_HOME=/home/me/a b\"\n"),
            "{text}"
        );
        assert!(text.contains("Restart=on-failure"), "{text}");
        assert!(text.contains("WantedBy=default.target"), "{text}");
        for hides_the_session in ["ProtectHome", "PrivateTmp", "PrivateUsers", "ProtectSystem"] {
            assert!(!text.contains(hides_the_session), "{text}");
        }
        let default = unit_text(&plan("/usr/bin/reconnect", None)).unwrap();
        assert!(!default.contains("Environment="), "{default}");
    }

    #[test]
    fn specifiers_variables_and_quotes_are_escaped() {
        let text = unit_text(&plan("/x/100%$HOME\"q\\", Some("/h/50%$x"))).unwrap();
        assert!(
            text.contains(r#"ExecStart="/x/100%%$$HOME\"q\\" keep"#),
            "{text}"
        );
        // Environment= expands specifiers but not variables.
        assert!(
            text.contains(r#"Environment="RECONNECT_HOME=/h/50%%$x""#),
            "{text}"
        );
        assert!(matches!(
            unit_text(&plan("/x/a\nb", None)),
            Err(ServiceError::Unrepresentable(_))
        ));
    }
}
