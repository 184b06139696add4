//! The decode tool in the real window: paste an error, see the verdict.

mod app_support;

use app_support::App;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run through scripts/test.sh"]
async fn decode_tool_turns_pasted_errors_into_verdicts() {
    let app = App::start(&[]).await;
    app.go("#/decode").await;

    let body = r#"{"error":"invalid_grant","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies. Trace ID: 0a1b Correlation ID: 9f8e Timestamp: 2026-11-26 08:00:00Z","error_codes":[53003],"suberror":"message_only"}"#;
    app.fill("#decode-input", body).await;
    app.click("#decode-run").await;
    let verdict = app.text("#decode-output .verdict").await;
    assert!(verdict.contains("AADSTS53003"), "{verdict}");
    assert!(
        app.text("#decode-output .who-acts")
            .await
            .contains("administrator"),
        "an admin must act on 53003"
    );
    assert!(
        app.text("#decode-output .fixes").await.contains("No"),
        "signing in again does not fix 53003"
    );
    let raw = app.text("#decode-output table.raw").await;
    assert!(
        raw.contains("9f8e") && raw.contains("message_only"),
        "{raw}"
    );

    // A bare code works too, and replaces the verdict.
    app.fill("#decode-input", "AADSTS700082").await;
    app.click("#decode-run").await;
    app.page()
        .find(fantoccini::Locator::XPath(
            "//*[@id='decode-output']//*[contains(., 'AADSTS700082')]",
        ))
        .await
        .unwrap_or_else(|e| panic!("the new verdict: {e}"));
    assert!(
        app.text("#decode-output .who-acts").await.contains("you"),
        "the user signs in again after idle expiry"
    );

    // The strict simulator's app-registration refusals say what to change in the registration.
    for (page_text, change) in [
        (
            "AADSTS50011: The redirect URI 'http://localhost:53100/' is not one of the redirect URIs registered for the application.",
            "Mobile and desktop applications",
        ),
        (
            "AADSTS9002327: This grant came through a redirect URI registered as a single-page application.",
            "Mobile and desktop applications",
        ),
        (
            "AADSTS50194: The application is not multi-tenant.",
            "supported account types",
        ),
        (
            "AADSTS700016: No application with the id 'x' is registered.",
            "client ID",
        ),
    ] {
        app.fill("#decode-input", page_text).await;
        app.click("#decode-run").await;
        let code = &page_text[..page_text.find(':').unwrap_or(0)];
        app.page()
            .find(fantoccini::Locator::XPath(&format!(
                "//*[@id='decode-output']//*[contains(., '{code}')]"
            )))
            .await
            .unwrap_or_else(|e| panic!("the verdict for {code}: {e}"));
        let advice = app.text("#decode-output .admin-message").await;
        assert!(advice.contains(change), "{code}: {advice}");
        assert!(
            app.text("#decode-output .who-acts")
                .await
                .contains("developer"),
            "{code}: the app's developer acts"
        );
    }

    // Empty input gets a message, not a crash.
    app.fill("#decode-input", "").await;
    app.click("#decode-run").await;
    assert!(app.text("#decode-output").await.contains("Paste something"));
    app.screenshot("app-decode").await;
    app.close().await;
}
