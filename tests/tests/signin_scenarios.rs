//! The three everyday breakages, each healed by ONE `reconnect signin`:
//! a new MFA policy (50076 with a claims challenge), a password reset (50173)
//! and 91 idle days (700082). Each goes from a failing refresh to a healthy
//! account; the simulator's log shows the claims challenge reached
//! `/authorize` (and, for MFA, that the MFA step was done).

mod signin_support;

use reconnect_sim::UserStatePatch;
use reconnect_sim::failure::MFA_CLAIMS_CHALLENGE;
use signin_support::{BrowserScript, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";

#[derive(Debug, Clone, Copy)]
enum Breakage {
    NewMfaPolicy,
    PasswordReset,
    Idle91Days,
}

async fn break_it(world: &SigninWorld, how: Breakage) {
    match how {
        Breakage::NewMfaPolicy => {
            let patch = UserStatePatch {
                mfa_required: Some(true),
                ..Default::default()
            };
            world.sim.state.set_user_state(ALICE, &patch).unwrap();
        }
        Breakage::PasswordReset => {
            // Tokens issued before the reset die; move on a second so "before" is unambiguous.
            world.sim.state.advance_clock(1).unwrap();
            world.sim.state.revoke(ALICE).unwrap();
            world.sim.state.advance_clock(1).unwrap();
        }
        Breakage::Idle91Days => {
            world.sim.state.advance_clock(91 * 24 * 3600).unwrap();
        }
    }
}

fn health(status: &serde_json::Value) -> String {
    let h = &status["health"];
    h.as_str()
        .or_else(|| h["state"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| h.to_string())
}

async fn one_signin_heals(how: Breakage, code: &str) {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    let (browser, urls) = world.browser(BrowserScript::Curl);
    if matches!(how, Breakage::NewMfaPolicy) {
        // Connected before the policy existed, without MFA: adopt such a grant.
        world.import_grant_without_mfa("work", ALICE).await;
    } else {
        let first = world
            .reconnect(&["signin", "work", "--browser", &browser])
            .await;
        assert_eq!(
            first.status.code(),
            Some(0),
            "first connect: {}",
            stderr(&first)
        );
    }

    break_it(&world, how).await;
    let failed = world.reconnect(&["refresh", "work", "--force"]).await;
    let err = stderr(&failed);
    assert_eq!(
        failed.status.code(),
        Some(2),
        "{how:?}: the refresh needs a reconnect: {err}"
    );
    assert!(err.contains(code), "{how:?}: {err}");
    let status = world.status("work").await;
    // Reconnect-needed verdicts are retried once first, so the account is
    // either waiting for that retry or already marked "reconnect needed".
    let broken = health(&status);
    assert!(
        broken == "reconnect_needed" || broken == "retrying",
        "{how:?}: {status:#}"
    );
    let failed_code = status["last_failure"]["primary_code"]
        .as_u64()
        .map(|c| c.to_string());
    assert_eq!(failed_code.as_deref(), Some(code), "{status:#}");

    world.sim.state.clear_log();
    let healed = world
        .reconnect(&["signin", "work", "--browser", &browser])
        .await;
    let err = stderr(&healed);
    assert_eq!(
        healed.status.code(),
        Some(0),
        "{how:?}: one signin heals: {err}"
    );

    let status = world.status("work").await;
    assert_eq!(health(&status), "healthy", "{how:?}: {status:#}");
    assert!(
        status["last_failure"].is_null(),
        "the failure is cleared: {status:#}"
    );
    let token = world.reconnect(&["refresh", "work", "--force"]).await;
    assert_eq!(
        token.status.code(),
        Some(0),
        "{how:?}: refresh works again: {}",
        stderr(&token)
    );

    let url = SigninWorld::last_url(&urls).unwrap();
    let claims = url
        .query_pairs()
        .find(|(k, _)| k == "claims")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    assert_eq!(
        claims["access_token"]["xms_cc"]["values"][0], "cp1",
        "{claims}"
    );
    let log = world.sim.state.log();
    let authorize: Vec<_> = log.iter().filter(|e| e.endpoint == "authorize").collect();
    assert_eq!(
        authorize.len(),
        1,
        "exactly one interactive sign-in: {log:?}"
    );
    // Only the MFA breakage carries a claims challenge; the simulator does not
    // count the `cp1` client capability alone as one.
    let expect_challenge = matches!(how, Breakage::NewMfaPolicy);
    assert_eq!(authorize[0].claims_passed, expect_challenge, "{log:?}");
    if expect_challenge {
        let challenge: serde_json::Value = serde_json::from_str(MFA_CLAIMS_CHALLENGE).unwrap();
        assert_eq!(
            claims["access_token"]["capolids"], challenge["access_token"]["capolids"],
            "{claims}"
        );
        assert!(err.contains("claims challenge"), "the user is told: {err}");
        assert_eq!(authorize[0].mfa, Some(true), "{log:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_mfa_policy_is_healed_by_one_signin_passing_the_claims_challenge() {
    one_signin_heals(Breakage::NewMfaPolicy, "50076").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_is_healed_by_one_signin() {
    one_signin_heals(Breakage::PasswordReset, "50173").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_91_days_is_healed_by_one_signin() {
    one_signin_heals(Breakage::Idle91Days, "700082").await;
}
