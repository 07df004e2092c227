//! Server API tests: the real server on port 0 with its own database — every scenario on
//! SQLite and on PostgreSQL — driven with a real in-process virtual card and reading mail
//! from the real mail catcher.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod at_rest;
mod audit;
mod audit_checks;
mod audit_load;
mod auth;
mod channel;
mod contact;
mod crl;
mod fleet;
mod helpdesk;
mod helpers;
mod https;
mod issue;
mod kek;
mod limits;
mod not_me;
mod ops;
mod passcode_expiry;
mod passcodes;
mod process;
mod ra;
mod races;
mod register;
mod reminders;
mod renewal;
mod renewal_recovery;
mod robustness;
mod scsc;
mod sealed;
mod security;
mod texts;
mod trace;
mod unlock;
