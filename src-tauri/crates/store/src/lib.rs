//! `reconnect-store` keeps secrets in the OS keychain (the vault) and
//! everything else — accounts, token facts, health, events — in SQLite.
