//! The kernel every flow shares, and no flow owns (ENGINEERING.md, "Our house style"). A
//! step opens through [`step`] (rate limits, the time, the transaction, the row it moves),
//! loads what it needs, calls a pure `decide` with `now` that returns an [`Outcome`] —
//! its [`Write`]s, its mail, its audit event and its reply — and ends in
//! [`AppState::finish`](crate::AppState::finish), which applies all of it in one
//! transaction. So every exit, refusals included, leaves its audit row (RA-4), and no
//! step writes anything any other way. (A step that locks nothing may open outside a
//! transaction and end in `finish_plain`: a success that writes nothing and is no audit
//! event needs no transaction; anything more still gets its one.)
//!
//! Shared rules live here too, once: who is asking ([`client`], ALL-5), the rate limits
//! ([`limits`], ALL-5), every one-time code ([`codes`], ALL-1), the counters that close
//! self-service ([`lockout`], UNL-4), the session behind a cookie ([`session`], AUTH-2),
//! login challenges, sealed rather than stored ([`login_challenge`], AUTH-1), the card
//! proving itself again ([`card_again`], REG-1), where mail may go
//! ([`contact`], REG-3 / REG-5) and the "this wasn't me" link in notices ([`notice`]).
//! Flows (`unlock/`, `register/`, `auth/`, `ra/`, `not_me`) import from here and never
//! from each other; `store/` imports no flow and not this.

pub(crate) mod card_again;
pub mod client;
pub(crate) mod codes;
pub(crate) mod contact;
mod finish;
pub(crate) mod limits;
pub(crate) mod lockout;
pub(crate) mod login_challenge;
pub(crate) mod notice;
mod outcome;
pub(crate) mod session;
pub(crate) mod step;
mod write;

pub use client::Client;
pub(crate) use limits::Scope;
pub(crate) use outcome::{Outcome, Subject};
pub use session::CurrentSession;
pub(crate) use step::Guard;
pub(crate) use write::Write;
