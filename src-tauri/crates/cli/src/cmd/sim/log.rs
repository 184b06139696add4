//! `reconnect sim log`: the request log, one readable line per request or
//! the API's JSON.

use reconnect_sim::{ControlClient, LogEntry};

use super::print_json;

/// Prints (or clears) the log.
pub async fn log(sim: &ControlClient, json: bool, clear: bool) -> anyhow::Result<()> {
    if clear {
        return Ok(sim.clear_log().await?);
    }
    let page = sim.log().await?;
    if json {
        return print_json(&page);
    }
    for entry in &page.requests {
        println!("{}", log_line(entry));
    }
    Ok(())
}

/// One readable line per logged request.
fn log_line(entry: &LogEntry) -> String {
    let text = |t: &Option<String>| t.clone().unwrap_or_else(|| "-".to_owned());
    let code = entry
        .code
        .map_or_else(|| "-".to_owned(), |c| format!("AADSTS{c}"));
    let mut line = format!(
        "{} {:<9} {:<18} {:>3} {:<14} user={} client={}",
        entry.time,
        entry.endpoint,
        text(&entry.grant_type),
        entry.status,
        code,
        text(&entry.user),
        text(&entry.client_id),
    );
    if entry.claims_passed {
        line.push_str(" claims");
    }
    if let Some(fault) = &entry.fault {
        line.push_str(&format!(" fault={fault}"));
    }
    if let Some(user_code) = &entry.user_code {
        line.push_str(&format!(" user_code={user_code}"));
    }
    if let Some(interval) = entry.interval {
        line.push_str(&format!(" interval={interval}s"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_keep_their_shape() {
        let mut entry = LogEntry::request("token", "POST");
        entry.time = "2026-01-02T03:04:05Z".into();
        entry.grant_type = Some("refresh_token".into());
        entry.status = 400;
        entry.code = Some(700_082);
        entry.user = Some("alice@contoso.test".into());
        entry.claims_passed = true;
        entry.fault = Some("slow".into());
        assert_eq!(
            log_line(&entry),
            "2026-01-02T03:04:05Z token     refresh_token      400 AADSTS700082   user=alice@contoso.test client=- claims fault=slow"
        );
    }

    #[test]
    fn device_polls_show_their_code_and_interval() {
        let mut entry = LogEntry::request("token", "POST");
        entry.time = "2026-01-02T03:04:05Z".into();
        entry.grant_type = Some("urn:ietf:params:oauth:grant-type:device_code".into());
        entry.status = 400;
        entry.code = Some(70_016);
        entry.user_code = Some("ABCD2345E".into());
        entry.interval = Some(10);
        let line = log_line(&entry);
        assert!(
            line.ends_with(" user_code=ABCD2345E interval=10s"),
            "{line}"
        );
    }
}
