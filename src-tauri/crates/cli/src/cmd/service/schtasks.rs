//! The Windows Task Scheduler task that runs `reconnect keep` at logon:
//! `\Reconnect\keep`, for the current user only, with the user's rights
//! (so it reaches their Credential Manager), restarted when it fails.
//!
//! A task cannot set environment variables, so the profile goes on the
//! command line (`keep --home DIR`).

use std::path::Path;

use super::{Plan, ServiceError};

/// The task's name.
#[cfg(windows)]
pub const TASK: &str = "\\Reconnect\\keep";

/// `text` with XML's special characters escaped.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn path_text(path: &Path) -> Result<&str, ServiceError> {
    match path.to_str() {
        Some(p) if !p.chars().any(char::is_control) => Ok(p),
        _ => Err(ServiceError::Unrepresentable(path.to_owned())),
    }
}

/// One argument as Windows programs split their command line: quoted, with
/// backslashes doubled where they precede a quote.
fn argument(arg: &str) -> String {
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            c => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}

/// The task's definition for `plan`, run at `user`'s logon.
pub fn task_xml(plan: &Plan, user: &str) -> Result<String, ServiceError> {
    let program = xml(path_text(&plan.program)?);
    let arguments = match &plan.home {
        Some(home) => format!("keep --home {}", argument(path_text(home)?)),
        None => "keep".to_owned(),
    };
    let arguments = xml(&arguments);
    let user = xml(user);
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>Reconnect: keep OAuth connections alive (written by `reconnect service install`).</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
    <Hidden>false</Hidden>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{program}</Command>
      <Arguments>{arguments}</Arguments>
    </Exec>
  </Actions>
</Task>
"#
    ))
}

#[cfg(windows)]
mod manage {
    //! Creating, deleting and checking the task with `schtasks`.

    use super::super::{Plan, ServiceError, keeper_line, manager, write_file};
    use super::{TASK, task_xml};

    fn user() -> String {
        let name = std::env::var("USERNAME").unwrap_or_default();
        match std::env::var("USERDOMAIN") {
            Ok(domain) if !domain.is_empty() => format!("{domain}\\{name}"),
            _ => name,
        }
    }

    /// Creates (or replaces) the task and starts it.
    pub fn install(plan: &Plan) -> Result<(), ServiceError> {
        let xml = task_xml(plan, &user())?;
        // schtasks reads task definitions as UTF-16 with a byte order mark.
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let file = std::env::temp_dir().join("reconnect-keep-task.xml");
        write_file(&file, &bytes)?;
        let path = file.to_string_lossy().into_owned();
        let created = manager("schtasks", &["/Create", "/TN", TASK, "/XML", &path, "/F"]);
        let _ = std::fs::remove_file(&file);
        created?;
        manager("schtasks", &["/Run", "/TN", TASK])?;
        println!("Created the task {TASK}; it runs at every logon and was started now.");
        Ok(())
    }

    /// Stops and deletes the task.
    pub fn uninstall() -> Result<(), ServiceError> {
        if manager("schtasks", &["/Query", "/TN", TASK]).is_err() {
            println!("No service was installed (no task {TASK}).");
            return Ok(());
        }
        let _ = manager("schtasks", &["/End", "/TN", TASK]);
        manager("schtasks", &["/Delete", "/TN", TASK, "/F"])?;
        println!("Stopped and deleted the task {TASK}.");
        Ok(())
    }

    /// Says whether the task exists and runs.
    pub fn status() -> Result<(), ServiceError> {
        match manager("schtasks", &["/Query", "/TN", TASK, "/FO", "LIST"]) {
            Ok(text) => {
                println!("Installed: the task {TASK}");
                let running = text.lines().any(|l| l.contains("Running"));
                println!(
                    "Service: {}",
                    if running { "running" } else { "not running" }
                );
            }
            Err(_) => println!("Not installed (no task {TASK})."),
        }
        println!("{}", keeper_line(None));
        Ok(())
    }
}

#[cfg(windows)]
pub use manage::{install, status, uninstall};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_runs_this_binary_for_this_profile_at_logon() {
        let plan = Plan {
            program: r"C:\Program Files\Reconnect\reconnect.exe".into(),
            home: Some(r"C:\Users\me\R&D profile\".into()),
        };
        let text = task_xml(&plan, r"CONTOSO\me").unwrap();
        assert!(
            text.contains(r"<Command>C:\Program Files\Reconnect\reconnect.exe</Command>"),
            "{text}"
        );
        assert!(
            text.contains(
                r"<Arguments>keep --home &quot;C:\Users\me\R&amp;D profile\\&quot;</Arguments>"
            ),
            "{text}"
        );
        assert!(text.contains(r"<UserId>CONTOSO\me</UserId>"), "{text}");
        assert!(text.contains("<LogonTrigger>"), "{text}");
        assert!(text.contains("<RestartOnFailure>"), "{text}");
    }

    #[test]
    fn arguments_survive_windows_command_line_splitting() {
        assert_eq!(argument("plain"), "\"plain\"");
        assert_eq!(argument(r"a b\"), r#""a b\\""#);
        assert_eq!(argument(r#"say "hi"\"#), r#""say \"hi\"\\""#);
        assert_eq!(argument(r"C:\dir\x"), r#""C:\dir\x""#);
    }
}
