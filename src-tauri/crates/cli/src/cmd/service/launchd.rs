//! The macOS LaunchAgent that runs `reconnect keep` at login:
//! `~/Library/LaunchAgents/app.reconnect.keep.plist`, loaded into the
//! user's GUI domain (`launchctl bootstrap gui/UID`), so the keeper reaches
//! the login keychain. launchd restarts it when it fails; its log goes to
//! `~/Library/Logs/Reconnect/keep.log`.

use std::path::Path;
#[cfg(target_os = "macos")]
use std::path::PathBuf;

use super::{Plan, ServiceError};

/// The agent's label.
pub const LABEL: &str = "app.reconnect.keep";

/// `text` with XML's special characters escaped.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn path_text(path: &Path) -> Result<String, ServiceError> {
    match path.to_str() {
        Some(p) if !p.chars().any(char::is_control) => Ok(xml(p)),
        _ => Err(ServiceError::Unrepresentable(path.to_owned())),
    }
}

/// The property list for `plan`, logging to `log`.
pub fn plist_text(plan: &Plan, log: &Path) -> Result<String, ServiceError> {
    let program = path_text(&plan.program)?;
    let log = path_text(log)?;
    let environment = match &plan.home {
        Some(home) => format!(
            "  <key>EnvironmentVariables</key>\n  <dict>\n    <key>RECONNECT_HOME</key>\n    \
             <string>{}</string>\n  </dict>\n",
            path_text(home)?
        ),
        None => String::new(),
    };
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by `reconnect service install`; `reconnect service uninstall` removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{LABEL}</string>
  <key>ProgramArguments</key>
  <array>
    <string>{program}</string>
    <string>keep</string>
  </array>
{environment}  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>30</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardErrorPath</key>
  <string>{log}</string>
</dict>
</plist>
"#
    ))
}

/// `~/Library/LaunchAgents/app.reconnect.keep.plist` and the log file.
#[cfg(target_os = "macos")]
pub fn paths() -> Result<(PathBuf, PathBuf), ServiceError> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or(ServiceError::NoConfigDir("~/Library"))?;
    let library = home.join("Library");
    Ok((
        library.join("LaunchAgents").join(format!("{LABEL}.plist")),
        library.join("Logs").join("Reconnect").join("keep.log"),
    ))
}

#[cfg(target_os = "macos")]
mod manage {
    //! Loading, unloading and checking the agent with `launchctl`.

    use super::super::{Plan, ServiceError, keeper_line, manager, remove_file, write_file};
    use super::{LABEL, paths, plist_text};

    fn domain() -> String {
        format!("gui/{}", rustix::process::getuid().as_raw())
    }

    /// Writes the agent and loads it (which starts it).
    pub fn install(plan: &Plan) -> Result<(), ServiceError> {
        let (path, log) = paths()?;
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        write_file(&path, plist_text(plan, &log)?.as_bytes())?;
        println!("Wrote {}", path.display());
        let target = format!("{}/{LABEL}", domain());
        let _ = manager("launchctl", &["bootout", &target]);
        let file = path.to_string_lossy().into_owned();
        manager("launchctl", &["bootstrap", &domain(), &file])?;
        println!(
            "Loaded and started; it starts at every login. Its log: {}",
            log.display()
        );
        Ok(())
    }

    /// Unloads the agent and removes it.
    pub fn uninstall() -> Result<(), ServiceError> {
        let (path, _) = paths()?;
        let target = format!("{}/{LABEL}", domain());
        let _ = manager("launchctl", &["bootout", &target]);
        if remove_file(&path)? {
            println!("Stopped and removed {}", path.display());
        } else {
            println!(
                "No service was installed ({} does not exist).",
                path.display()
            );
        }
        Ok(())
    }

    /// Says whether the agent is installed and running.
    pub fn status() -> Result<(), ServiceError> {
        let (path, _) = paths()?;
        if !path.exists() {
            println!("Not installed ({} does not exist).", path.display());
        } else {
            println!("Installed: {}", path.display());
            let target = format!("{}/{LABEL}", domain());
            match manager("launchctl", &["print", &target]) {
                Ok(text) if text.contains("state = running") => println!("Service: running"),
                Ok(_) => println!("Service: loaded, not running"),
                Err(_) => println!("Service: not loaded"),
            }
        }
        println!("{}", keeper_line(None));
        Ok(())
    }
}

#[cfg(target_os = "macos")]
pub use manage::{install, status, uninstall};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_runs_this_binary_for_this_profile_and_restarts_on_failure() {
        let plan = Plan {
            program: "/Applications/R & D/reconnect".into(),
            home: Some("/Users/me/<p>".into()),
        };
        let text = plist_text(
            &plan,
            Path::new("/Users/me/Library/Logs/Reconnect/keep.log"),
        )
        .unwrap();
        assert!(
            text.contains(
                "<string>/Applications/R &amp; D/reconnect</string>\n    <string>keep</string>"
            ),
            "{text}"
        );
        assert!(
            text.contains("<key>RECONNECT_HOME</key>\n    <string>/Users/me/&lt;p&gt;</string>"),
            "{text}"
        );
        assert!(
            text.contains("<key>SuccessfulExit</key>\n    <false/>"),
            "{text}"
        );
        assert!(
            text.contains(&format!("<string>{LABEL}</string>")),
            "{text}"
        );
        let default = plist_text(
            &Plan {
                program: "/usr/local/bin/reconnect".into(),
                home: None,
            },
            Path::new("/l"),
        )
        .unwrap();
        assert!(!default.contains("EnvironmentVariables"), "{default}");
    }
}
