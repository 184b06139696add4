//! The Add-account form's Microsoft choices in the real window: a work or
//! school account in the US Government cloud, an Azure AD B2C account and an
//! External ID (CIAM) account are added through the form, and `reconnect
//! accounts --json` on the same data directory shows the authority and
//! tenant the core built for each; a bad B2C tenant name is refused with
//! the form's error and nothing is added. Needs Xvfb, tauri-driver,
//! WebKitWebDriver and a Secret Service (run through scripts/test.sh).

mod app_support;

use app_support::App;
use reconnect_e2e::grants::CLIENT_ID;
use reconnect_e2e::harness::{assert_success, binary};
use serde_json::Value;

/// Opens the form (from the dashboard) on a fresh dialog and types the
/// name and client id.
async fn open_form(app: &App, name: &str) {
    app.go("#/").await;
    app.click("#add-account").await;
    app.wait_for("#add-dialog[open] #acct-name").await;
    app.fill("#acct-name", name).await;
    app.fill("#acct-client", CLIENT_ID).await;
}

/// Picks the Microsoft account type (`entra`, `b2c` or `ciam`).
async fn account_type(app: &App, value: &str) {
    app.click(&format!(
        "#add-dialog input[name='authority'][value='{value}']"
    ))
    .await;
}

/// Sends the form and waits for the new account's detail view.
async fn submit(app: &App, name: &str) {
    app.click("#add-submit").await;
    app.wait_for(&format!(
        "#view-detail:not([hidden]) h2[data-account='{name}']"
    ))
    .await;
}

/// The stored accounts, as `reconnect accounts --json` lists them.
fn accounts(app: &App) -> Vec<Value> {
    let out = app
        .home
        .command(binary("reconnect"))
        .args(["accounts", "--json"])
        .output()
        .expect("reconnect runs");
    assert_success(&out, "reconnect accounts --json");
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("accounts JSON")
        .as_array()
        .expect("a list")
        .clone()
}

fn stored<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} is stored: {list:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn the_form_adds_us_government_b2c_and_ciam_accounts() {
    // The default (real) profile: the app's data directory is the test's
    // RECONNECT_HOME, which the CLI reads too.
    let app = App::start(&[]).await;

    // Work or school, in the US Government cloud (labels come from the core).
    open_form(&app, "gov-mail").await;
    let cloud = app.text("#acct-cloud option[value='us_government']").await;
    assert!(cloud.contains("US Government"), "{cloud}");
    app.choose("#acct-cloud", "us_government").await;
    app.fill("#acct-tenant", "contoso.onmicrosoft.us").await;
    submit(&app, "gov-mail").await;
    let provider = app.text("#view-detail .view-head p.muted").await;
    assert!(provider.contains("US Government"), "{provider}");

    // A bad B2C tenant name: the form says what is wrong, nothing is added.
    open_form(&app, "shop-bad").await;
    account_type(&app, "b2c").await;
    app.fill("#acct-tenant-name", "con toso").await;
    app.fill("#acct-policy", "B2C_1_signupsignin").await;
    app.click("#add-submit").await;
    app.wait_for("#add-dialog p.error:not([hidden])").await;
    let error = app.text("#add-dialog p.error").await;
    assert!(error.contains("not a tenant name"), "{error}");
    app.click("#add-dialog .cancel-add").await;

    // Azure AD B2C: tenant name and user flow.
    open_form(&app, "shop").await;
    account_type(&app, "b2c").await;
    app.fill("#acct-tenant-name", "ContosoB2C").await;
    app.fill("#acct-policy", "B2C_1_signupsignin").await;
    submit(&app, "shop").await;

    // External ID (CIAM): tenant name only.
    open_form(&app, "members").await;
    account_type(&app, "ciam").await;
    app.fill("#acct-tenant-name", "fabrikam").await;
    submit(&app, "members").await;

    let list = accounts(&app);
    assert_eq!(
        list.len(),
        3,
        "the refused account was not added: {list:#?}"
    );
    let gov = stored(&list, "gov-mail");
    assert_eq!(gov["authority"], "https://login.microsoftonline.us");
    assert_eq!(gov["tenant"], "contoso.onmicrosoft.us");
    assert_eq!(gov["client_id"], CLIENT_ID);
    let shop = stored(&list, "shop");
    assert_eq!(shop["authority"], "https://contosob2c.b2clogin.com");
    assert_eq!(
        shop["tenant"],
        "contosob2c.onmicrosoft.com/B2C_1_signupsignin"
    );
    let members = stored(&list, "members");
    assert_eq!(members["authority"], "https://fabrikam.ciamlogin.com");
    assert_eq!(members["tenant"], "fabrikam.onmicrosoft.com");
    for account in [gov, shop, members] {
        assert_eq!(account["provider"], "microsoft", "{account:#}");
        assert!(account["token"].is_null(), "not signed in yet: {account:#}");
    }
    app.close().await;
}
