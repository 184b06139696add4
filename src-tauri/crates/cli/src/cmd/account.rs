//! Account commands: `add`, `remove`, `accounts`, `import`.

use std::process::ExitCode;

/// Arguments of `reconnect add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {}

/// Runs `reconnect add`.
pub fn add(_args: AddArgs) -> ExitCode {
    super::not_yet("add")
}

/// Arguments of `reconnect remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {}

/// Runs `reconnect remove`.
pub fn remove(_args: RemoveArgs) -> ExitCode {
    super::not_yet("remove")
}

/// Arguments of `reconnect accounts`.
#[derive(Debug, clap::Args)]
pub struct AccountsArgs {}

/// Runs `reconnect accounts`.
pub fn accounts(_args: AccountsArgs) -> ExitCode {
    super::not_yet("accounts")
}

/// Arguments of `reconnect import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {}

/// Runs `reconnect import`.
pub fn import(_args: ImportArgs) -> ExitCode {
    super::not_yet("import")
}

