//! `git-credential-reconnect`: the name git looks for when a credential
//! helper is configured as `reconnect credential` (git prefixes helper
//! names with `git credential-`). It hands its arguments to
//! `reconnect credential`, from the same directory as this program when
//! one is there, else from `PATH`.
//!
//! git runs it as `git-credential-reconnect credential get` (helper
//! `reconnect credential`) or `git-credential-reconnect get` (helper
//! `reconnect`); both end up as `reconnect credential get`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn reconnect() -> PathBuf {
    let name = format!("reconnect{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "credential") {
        args.remove(0);
    }
    let mut command = Command::new(reconnect());
    command.arg("credential").args(&args);
    run(command)
}

#[cfg(unix)]
fn run(mut command: Command) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let err = command.exec();
    eprintln!("git-credential-reconnect: cannot run `reconnect`: {err}");
    ExitCode::FAILURE
}

#[cfg(not(unix))]
fn run(mut command: Command) -> ExitCode {
    match command.status() {
        Ok(status) => ExitCode::from(
            status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1),
        ),
        Err(err) => {
            eprintln!("git-credential-reconnect: cannot run `reconnect`: {err}");
            ExitCode::FAILURE
        }
    }
}
