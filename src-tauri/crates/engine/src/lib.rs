//! `reconnect-engine` runs refreshes: one per account at a time across threads
//! and processes, with retries decided by the decoder's verdict.
