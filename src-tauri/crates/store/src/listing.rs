//! Every account with its token facts and health, in one query: what the
//! engine's overview (`reconnect status`, the app's dashboard and tray)
//! reads, so listing a thousand accounts is one statement, not three per
//! account.

use crate::account::{self, Account};
use crate::db::Store;
use crate::error::StoreError;
use crate::facts::TokenFacts;
use crate::health::{self, HealthRecord};

/// One account as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// The account's settings.
    pub account: Account,
    /// Facts about its stored tokens, if any are stored.
    pub facts: Option<TokenFacts>,
    /// Its recorded health, if any.
    pub health: Option<HealthRecord>,
}

/// The columns after the account's own (see [`account::COLUMNS`]).
const JOINED: &str = "f.account_id, f.access_expires_at, f.refresh_issued_at, \
     f.refresh_last_used_at, f.rotation_count, f.spa, f.stored_at, f.write_seq, \
     h.state, h.last_failure, h.unsaved_since, h.updated_at";

/// Where the joined columns start.
const FACTS: usize = 19;
const HEALTH: usize = FACTS + 8;

type Raw = (Account, Option<TokenFacts>, Option<health::Row>);

fn raw(row: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    let account = account::from_row(row)?;
    let facts = match row.get::<_, Option<i64>>(FACTS)? {
        Some(_) => Some(TokenFacts {
            access_expires_at: row.get(FACTS + 1)?,
            refresh_issued_at: row.get(FACTS + 2)?,
            refresh_last_used_at: row.get(FACTS + 3)?,
            rotation_count: row.get(FACTS + 4)?,
            spa: row.get(FACTS + 5)?,
            stored_at: row.get(FACTS + 6)?,
            write_seq: row.get(FACTS + 7)?,
        }),
        None => None,
    };
    let health = match row.get::<_, Option<String>>(HEALTH)? {
        Some(state) => Some((
            state,
            row.get(HEALTH + 1)?,
            row.get(HEALTH + 2)?,
            row.get(HEALTH + 3)?,
        )),
        None => None,
    };
    Ok((account, facts, health))
}

impl Store {
    /// Every account with its facts and health, by name.
    pub fn account_records(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let columns = account::COLUMNS
            .split(", ")
            .map(|c| format!("a.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<Raw> = {
            let conn = self.conn();
            let mut stmt = conn.prepare(&format!(
                "SELECT {columns}, {JOINED} FROM accounts a \
                 LEFT JOIN token_facts f ON f.account_id = a.id \
                 LEFT JOIN health h ON h.account_id = a.id ORDER BY a.name"
            ))?;
            stmt.query_map([], raw)?.collect::<Result<_, _>>()?
        };
        rows.into_iter()
            .map(|(account, facts, health)| {
                Ok(AccountRecord {
                    account,
                    facts,
                    health: health.map(health::from_columns).transpose()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::NewAccount;
    use crate::grant::{Basis, Grants, TokenWrite};
    use crate::home::Home;
    use crate::memory::MemoryVault;
    use reconnect_core::health::HealthState;
    use reconnect_core::tokens::TokenSet;

    #[test]
    fn one_query_reads_what_the_per_account_reads_read() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::at(dir.path()).unwrap();
        let store = Store::open(&home).unwrap();
        let vault = MemoryVault::in_memory();
        let bare = store
            .add_account(&NewAccount::microsoft("bare", "c"))
            .unwrap();
        let full = store
            .add_account(&NewAccount::microsoft("full", "c"))
            .unwrap();
        let tokens = TokenSet {
            access_token: None,
            access_expires_at: Some(9),
            refresh_token: None,
            id_token: None,
            scope: String::new(),
        };
        let facts = TokenFacts {
            rotation_count: 2,
            spa: true,
            ..TokenFacts::default()
        };
        let write = TokenWrite {
            account: &full,
            tokens: &tokens,
            facts,
            basis: Basis::NewGrant,
            after_vault: None,
        };
        Grants::new(&home, &store, &vault)
            .write(write, |tx| {
                tx.set_health(full.id, HealthState::NeedsAdmin, None)
            })
            .unwrap();
        let records = store.account_records().unwrap();
        assert_eq!(records.len(), 2);
        for (record, id) in records.iter().zip([bare.id, full.id]) {
            assert_eq!(record.account, store.account_by_id(id).unwrap());
            assert_eq!(record.facts, store.token_facts(id).unwrap());
            assert_eq!(record.health, store.health(id).unwrap());
        }
        assert!(records[0].facts.is_none() && records[0].health.is_none());
        assert_eq!(records[1].facts.as_ref().map(|f| f.rotation_count), Some(2));
    }
}
