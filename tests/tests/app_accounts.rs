//! Adding and removing accounts in the real window: the add form (with a
//! clear error for bad input), the new card, and removal that deletes the
//! account's keychain entries. Needs Xvfb, tauri-driver, WebKitWebDriver and
//! a Secret Service (run through scripts/test.sh).

mod app_support;

use std::collections::BTreeSet;

use app_support::App;

/// The accounts (by vault id) that have entries under a Reconnect keychain
/// service, read with `secret-tool` (the secrets themselves are discarded).
fn keychain_accounts() -> BTreeSet<String> {
    // secret-tool writes the attributes to stderr and the rest to stdout;
    // one stream keeps each item's lines together.
    let out = std::process::Command::new("sh")
        .args([
            "-c",
            "secret-tool search --all --unlock application rust-keyring 2>&1",
        ])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut accounts = BTreeSet::new();
    let mut service_ok = false;
    let mut user: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('[') {
            if let (true, Some(u)) = (service_ok, user.take()) {
                accounts.insert(u);
            }
            service_ok = false;
            user = None;
        } else if let Some(v) = line.strip_prefix("attribute.service = ") {
            service_ok = v.starts_with("reconnect:");
        } else if let Some(v) = line.strip_prefix("attribute.username = ") {
            user = v.split('/').next().map(str::to_owned);
        }
    }
    if let (true, Some(u)) = (service_ok, user) {
        accounts.insert(u);
    }
    accounts
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn adding_and_removing_accounts_updates_the_dashboard_and_the_keychain() {
    let app = App::demo().await;
    let before = keychain_accounts();
    assert_eq!(
        before.len(),
        4,
        "the four demo accounts have keychain entries: {before:?}"
    );

    // A bad issuer is refused with a clear message and nothing is added.
    app.click("#add-account").await;
    app.click("#add-dialog input[name='kind'][value='oidc']")
        .await;
    app.fill("#acct-name", "lab-idp").await;
    app.fill("#acct-issuer", "ftp://nowhere").await;
    app.fill("#acct-client", "client-1").await;
    app.click("#add-submit").await;
    let error = app.text("#add-dialog p.error").await;
    assert!(!error.trim().is_empty(), "the form explains what is wrong");
    app.click("#add-dialog .cancel-add").await;

    // A Microsoft account with the defaults.
    app.click("#add-account").await;
    app.fill("#acct-name", "lab-mail").await;
    app.click("#add-submit").await;
    app.wait_for("#view-detail .badge[data-health='never_connected']")
        .await;
    app.go("#/").await;
    let card = app.text("li.card[data-name='lab-mail']").await;
    assert!(card.contains("Not signed in"), "{card}");
    assert!(
        card.contains("Reconnect"),
        "a new account offers the sign-in: {card}"
    );
    // Removing asks once, then removes.
    for name in ["lab-mail", "adele-mail"] {
        app.go(&format!("#/account/{name}")).await;
        app.wait_for(&format!(
            "#view-detail:not([hidden]) h2[data-account='{name}']"
        ))
        .await;
        app.click("#view-detail button.remove").await;
        app.wait_for("#view-detail button.remove[data-armed='true']")
            .await;
        app.click("#view-detail button.remove").await;
        app.wait_gone(&format!("li.card[data-name='{name}']")).await;
    }
    let after = keychain_accounts();
    assert_eq!(
        after.len(),
        3,
        "adele-mail's keychain entries are gone: {after:?}"
    );
    assert!(after.is_subset(&before), "{after:?} ⊄ {before:?}");
    let cards = app
        .client
        .find_all(fantoccini::Locator::Css("li.card"))
        .await
        .unwrap();
    assert_eq!(cards.len(), 3);
    app.close().await;
}
