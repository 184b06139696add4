//! `reconnect sim device` (list, approve, decline device codes) and
//! `reconnect sim policy` (the tenant's device-code policy), through the
//! simulator's control client.

use clap::Subcommand;
use reconnect_sim::{ControlClient, TenantPolicy};

use super::{Target, client, print_json};

/// Where the policy calls go: one policy holds for every tenant of the
/// simulator, and `organizations` names them all.
const POLICY_TENANT: &str = "organizations";

/// What `reconnect sim device` does.
#[derive(Debug, Subcommand)]
pub enum DeviceAction {
    /// List every device code with its status, interval and polls.
    List,
    /// Approve a pending code for a user, as they would on the other device.
    Approve {
        /// The user code the app shows (case, spaces and dashes do not matter).
        user_code: String,
        /// The user who signs in.
        #[arg(long = "user", value_name = "UPN")]
        upn: String,
    },
    /// Decline a pending code: the app's next poll answers authorization_declined.
    Decline {
        /// The user code the app shows.
        user_code: String,
    },
}

/// Arguments of `reconnect sim policy`.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// Block the device code flow (approvals fail; polls answer AADSTS53003).
    #[arg(long, conflicts_with = "allow_device_code")]
    block_device_code: bool,
    /// Allow the device code flow again.
    #[arg(long)]
    allow_device_code: bool,
    #[command(flatten)]
    target: Target,
}

impl PolicyArgs {
    /// The policy to set, or `None` to show the current one.
    fn wanted(&self) -> Option<TenantPolicy> {
        match (self.block_device_code, self.allow_device_code) {
            (true, _) => Some(TenantPolicy {
                block_device_code: true,
            }),
            (false, true) => Some(TenantPolicy {
                block_device_code: false,
            }),
            (false, false) => None,
        }
    }
}

/// Runs `reconnect sim device …`.
pub async fn device(action: DeviceAction, sim: &ControlClient) -> anyhow::Result<()> {
    match action {
        DeviceAction::List => print_json(&sim.device_codes().await?),
        DeviceAction::Approve { user_code, upn } => {
            print_json(&sim.approve_device_code(&user_code, &upn).await?)
        }
        DeviceAction::Decline { user_code } => {
            print_json(&sim.decline_device_code(&user_code).await?)
        }
    }
}

/// Runs `reconnect sim policy [--block-device-code | --allow-device-code]`.
pub async fn policy(args: PolicyArgs) -> anyhow::Result<()> {
    let sim = client(&args.target)?;
    let policy = match args.wanted() {
        Some(policy) => sim.set_tenant_policy(POLICY_TENANT, &policy).await?,
        None => sim.tenant_policy(POLICY_TENANT).await?,
    };
    print_json(&policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Debug, Subcommand)]
    enum Command {
        Device {
            #[command(subcommand)]
            action: DeviceAction,
        },
        Policy(PolicyArgs),
    }

    fn policy_of(args: &[&str]) -> Option<Option<TenantPolicy>> {
        match Cli::try_parse_from(args).ok()?.command {
            Command::Policy(p) => Some(p.wanted()),
            Command::Device { .. } => None,
        }
    }

    #[test]
    fn device_commands_parse() {
        let cli =
            Cli::try_parse_from(["x", "device", "approve", "ABCD2345E", "--user", "a@b.test"])
                .expect("approve");
        assert!(matches!(
            cli.command,
            Command::Device { action: DeviceAction::Approve { ref user_code, ref upn } }
                if user_code == "ABCD2345E" && upn == "a@b.test"
        ));
        assert!(Cli::try_parse_from(["x", "device", "approve", "ABCD2345E"]).is_err());
        assert!(Cli::try_parse_from(["x", "device", "decline", "ABCD2345E"]).is_ok());
        assert!(Cli::try_parse_from(["x", "device", "list"]).is_ok());
    }

    #[test]
    fn policy_flags_block_allow_or_show() {
        let block = TenantPolicy {
            block_device_code: true,
        };
        assert_eq!(
            policy_of(&["x", "policy", "--block-device-code"]),
            Some(Some(block))
        );
        assert_eq!(
            policy_of(&["x", "policy", "--allow-device-code"]),
            Some(Some(TenantPolicy::default()))
        );
        assert_eq!(policy_of(&["x", "policy"]), Some(None));
        assert_eq!(
            policy_of(&["x", "policy", "--block-device-code", "--allow-device-code"]),
            None
        );
    }
}
