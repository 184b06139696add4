//! Connecting an account without a browser, the way the CLI tests and the
//! window tests seed their profiles: the simulator mints a grant for a user
//! (as if they had signed in) and `reconnect import` adopts its refresh
//! token, read from stdin as a script would pass it.

use std::process::Command;

use reconnect_sim::{AppRegistration, GrantRequest, RunningSim};

use crate::harness::{assert_success, output_with_stdin};

/// The app registration the seeded accounts use.
pub const CLIENT_ID: &str = "0a0b0c0d-1111-2222-3333-444455556666";
/// The registration of [`CLIENT_ID`], as a tenant holds it: a desktop app
/// (any work or school account, `http://localhost` as its redirect, public
/// client flows allowed). The simulator refuses apps nobody registered.
pub fn app() -> AppRegistration {
    AppRegistration::desktop(CLIENT_ID)
}

/// The scopes of a seeded grant.
pub const SCOPES: &str = "openid profile offline_access User.Read";

/// A refresh token of a fresh grant for `upn` (no MFA recorded in it).
pub fn refresh_token(sim: &RunningSim, upn: &str) -> String {
    let grant = sim
        .state
        .mint_grant(
            &GrantRequest {
                upn: upn.into(),
                client_id: CLIENT_ID.into(),
                scope: SCOPES.into(),
                spa: false,
                mfa: false,
            },
            &sim.http_url,
        )
        .expect("the simulator mints a grant");
    grant["refresh_token"]
        .as_str()
        .expect("the grant has a refresh token")
        .to_owned()
}

/// Runs `reconnect` (`command`, its environment set) as `import NAME
/// --refresh-token-stdin` with a fresh grant of `upn`; it must succeed.
/// Returns the refresh token imported (for secret scans).
pub fn import(mut command: Command, sim: &RunningSim, name: &str, upn: &str) -> String {
    let token = refresh_token(sim, upn);
    let out = output_with_stdin(
        command.args(["import", name, "--refresh-token-stdin"]),
        &token,
    );
    assert_success(&out, &format!("import {name}"));
    token
}
