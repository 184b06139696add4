//! `reconnect service install | uninstall | status`: a login service that
//! runs `reconnect keep` for this profile, so connections are kept alive
//! whenever the user is logged in, without the desktop app.
//!
//! - Linux: a systemd user unit, `reconnect-keep.service` in
//!   `$XDG_CONFIG_HOME/systemd/user` ([`systemd`]); enabled and started when
//!   the user's systemd is reachable, else the commands to run are printed.
//! - macOS: a LaunchAgent, `~/Library/LaunchAgents/app.reconnect.keep.plist`
//!   (`launchd`).
//! - Windows: a Task Scheduler task run at logon, `\Reconnect\keep`
//!   (`schtasks`).
//!
//! The service runs this very binary (its absolute path) with this profile
//! (`RECONNECT_HOME`, when one is set). `status` says whether the service is
//! installed and whether it runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reconnect_store::{Home, KeeperLock};

use super::exit;

#[cfg(any(target_os = "macos", test))]
mod launchd;
#[cfg(any(windows, test))]
mod schtasks;
#[cfg(any(target_os = "linux", test))]
mod systemd;

/// Arguments of `reconnect service`.
#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Install the service, enable it at login and start it.
    Install,
    /// Stop the service and remove it.
    Uninstall,
    /// Say whether the service is installed and running.
    Status,
}

/// What a service runs: the binary and the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The absolute path of the `reconnect` binary.
    pub program: PathBuf,
    /// The profile, when `RECONNECT_HOME` chose one (else the default).
    pub home: Option<PathBuf>,
}

/// Why the service could not be installed, removed or checked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The path of the running binary is unknown.
    #[error("cannot tell where this `reconnect` binary is")]
    CurrentExe(#[source] std::io::Error),
    /// The profile cannot be used.
    #[error("cannot use the profile")]
    Home(#[source] reconnect_store::HomeError),
    /// No home directory to put the service file in.
    #[error("cannot tell where the service file goes: neither {0} nor HOME is set")]
    NoConfigDir(&'static str),
    /// A path a service file cannot hold (a line break, a control character).
    #[error("{} cannot be written into a service file", .0.display())]
    Unrepresentable(PathBuf),
    /// A file could not be written or removed.
    #[error("cannot write or remove {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The service manager refused.
    #[error("`{command}` failed: {detail}")]
    Manager {
        /// The command run.
        command: String,
        /// What it said.
        detail: String,
    },
}

/// Runs `reconnect service`.
pub fn run(args: ServiceArgs) -> ExitCode {
    let result = match args.action {
        Action::Install => plan().and_then(|plan| {
            warn_if_kept(plan.home.as_deref());
            platform::install(&plan)
        }),
        Action::Uninstall => platform::uninstall(),
        Action::Status => platform::status(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("reconnect service: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(exit::OTHER)
        }
    }
}

/// This binary and profile.
fn plan() -> Result<Plan, ServiceError> {
    let program = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(ServiceError::CurrentExe)?;
    let home = match std::env::var_os(reconnect_store::home::HOME_ENV) {
        Some(_) => Some(
            Home::resolve()
                .map_err(ServiceError::Home)?
                .dir()
                .to_path_buf(),
        ),
        None => None,
    };
    Ok(Plan { program, home })
}

/// A keeper already running makes the service's keeper refuse: say so.
fn warn_if_kept(home: Option<&Path>) {
    let home = match home {
        Some(dir) => Home::at(dir),
        None => Home::resolve(),
    };
    if let Ok(home) = home
        && let Ok(Some(keeper)) = KeeperLock::holder(&home)
    {
        eprintln!(
            "reconnect service: note: this profile is kept by {keeper} now; the service \
             keeps it once that one stops"
        );
    }
}

/// Writes `text` to `path` through a temporary file, creating the folder.
fn write_file(path: &Path, text: &[u8]) -> Result<(), ServiceError> {
    let io = |source| ServiceError::File {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temp = path.with_extension("tmp");
    std::fs::write(&temp, text).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

/// Removes `path`; whether it was there.
fn remove_file(path: &Path) -> Result<bool, ServiceError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(ServiceError::File {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Runs a service manager's command; its stdout, or what went wrong.
fn manager(program: &str, args: &[&str]) -> Result<String, ServiceError> {
    let command = format!("{program} {}", args.join(" "));
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| ServiceError::Manager {
            command: command.clone(),
            detail: e.to_string(),
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    Err(ServiceError::Manager {
        command,
        detail: if said.is_empty() {
            out.status.to_string()
        } else {
            said
        },
    })
}

/// Whether the profile is kept now, in words, for `status`.
fn keeper_line(home: Option<&Path>) -> String {
    let home = match home {
        Some(dir) => Home::at(dir),
        None => Home::resolve(),
    };
    match home.map(|h| KeeperLock::holder(&h)) {
        Ok(Ok(Some(keeper))) => format!("The profile is kept by {keeper}."),
        Ok(Ok(None)) => "Nothing keeps the profile right now.".to_owned(),
        _ => "Cannot tell whether anything keeps the profile.".to_owned(),
    }
}

#[cfg(target_os = "linux")]
use systemd as platform;

#[cfg(target_os = "macos")]
use launchd as platform;

#[cfg(windows)]
use schtasks as platform;
