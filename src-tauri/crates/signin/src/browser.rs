//! Handing the authorize URL to a browser: the system browser (detached, so
//! nothing blocks), or a command chosen by the user or a test
//! (`--browser CMD` / `RECONNECT_BROWSER`), run with the URL as its last
//! argument.

use std::process::{ExitStatus, Stdio};

use tokio::sync::oneshot;
use url::Url;

/// Why the browser could not be started.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The browser command is empty or has unbalanced quotes.
    #[error("the browser command `{0}` cannot be parsed")]
    BadCommand(String),
    /// Starting the browser failed.
    #[error("could not start the browser `{program}`")]
    Spawn {
        /// What was started.
        program: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
}

/// What a launch gives back.
#[derive(Debug)]
pub enum Launched {
    /// Handed off; nothing more will be heard (the system browser).
    Detached,
    /// A command that is being watched: its exit status arrives here, so a
    /// browser command that fails ends the sign-in at once.
    Watched(oneshot::Receiver<std::io::Result<ExitStatus>>),
}

/// Opens URLs for the user.
pub trait Browser: Send + Sync {
    /// Shows `url` to the user.
    fn open(&self, url: &Url) -> Result<Launched, BrowserError>;
    /// A short description for progress messages.
    fn describe(&self) -> String;
}

/// The system's default browser: through the desktop portal on Linux when
/// one runs (see [`crate::portal`]), else `open::that_detached` (`xdg-open`
/// and the like).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &Url) -> Result<Launched, BrowserError> {
        #[cfg(target_os = "linux")]
        match crate::portal::open_uri(url) {
            Ok(()) => return Ok(Launched::Detached),
            Err(err) => tracing::debug!("opening without the portal: {err}"),
        }
        open::that_detached(url.as_str())
            .map(|()| Launched::Detached)
            .map_err(|source| BrowserError::Spawn {
                program: "the system browser".into(),
                source,
            })
    }

    fn describe(&self) -> String {
        "the system browser".into()
    }
}

/// A browser command: program and arguments (shell-style quoting allowed,
/// no shell involved); the URL is appended as the last argument.
#[derive(Debug, Clone)]
pub struct CommandBrowser {
    argv: Vec<String>,
}

impl CommandBrowser {
    /// Parses a command line such as `firefox --private-window`.
    pub fn parse(command: &str) -> Result<Self, BrowserError> {
        match shlex::split(command) {
            Some(argv) if !argv.is_empty() => Ok(Self { argv }),
            _ => Err(BrowserError::BadCommand(command.to_owned())),
        }
    }
}

impl Browser for CommandBrowser {
    fn open(&self, url: &Url) -> Result<Launched, BrowserError> {
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| BrowserError::BadCommand(String::new()))?;
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .arg(url.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|source| BrowserError::Spawn {
                program: program.clone(),
                source,
            })?;
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            let _ = tx.send(child.wait().await);
        });
        Ok(Launched::Watched(rx))
    }

    fn describe(&self) -> String {
        format!("`{}`", self.argv.join(" "))
    }
}

/// For the ways of signing in that open no browser here (a device code, a
/// pasted redirect): opening always fails, and says why.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBrowser;

impl Browser for NoBrowser {
    fn open(&self, _url: &Url) -> Result<Launched, BrowserError> {
        Err(BrowserError::BadCommand(String::new()))
    }

    fn describe(&self) -> String {
        "no browser on this machine".into()
    }
}

/// Whether the system browser can show a window here. On Linux and the
/// other Unix desktops that means a graphical session (`DISPLAY` or
/// `WAYLAND_DISPLAY` set); macOS and Windows always have one.
pub fn system_browser_possible() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) || !cfg!(unix) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// The browser to use: a command when one is given, else the system browser.
pub fn choose(command: Option<&str>) -> Result<Box<dyn Browser>, BrowserError> {
    match command.map(str::trim).filter(|c| !c.is_empty()) {
        Some(cmd) => Ok(Box::new(CommandBrowser::parse(cmd)?)),
        None => Ok(Box::new(SystemBrowser)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_split_like_a_shell_would() {
        let b = CommandBrowser::parse(r#"my-browser --profile "a b""#).unwrap();
        assert_eq!(b.argv, ["my-browser", "--profile", "a b"]);
        assert!(CommandBrowser::parse("").is_err());
        assert!(CommandBrowser::parse("unbalanced \"quote").is_err());
    }

    #[tokio::test]
    async fn a_watched_command_reports_its_exit() {
        let b = CommandBrowser::parse("sh -c 'exit 3' browser").unwrap();
        let Launched::Watched(rx) = b
            .open(&Url::parse("http://127.0.0.1:1/x").unwrap())
            .unwrap()
        else {
            panic!("command browsers are watched");
        };
        let status = rx.await.unwrap().unwrap();
        assert_eq!(status.code(), Some(3));
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt.block_on(async {
            CommandBrowser::parse("/nonexistent/browser")
                .unwrap()
                .open(&Url::parse("http://127.0.0.1/").unwrap())
        });
        assert!(matches!(err, Err(BrowserError::Spawn { .. })));
    }
}
