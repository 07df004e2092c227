//! Wire types shared by the SPA (`app`), the `server` and the `card-bridge`, with the
//! validation constructors every side uses, so a rule is written once.
//!
//! Binary values travel as lowercase hex strings. Every error body is [`ApiError`]:
//! a stable machine code the UI maps to plain language, plus an English message.

pub mod audit;
pub mod auth;
pub mod bridge;
pub mod contact;
pub mod endpoint;
pub mod error;
#[cfg(feature = "openapi")]
mod examples;
pub mod helpdesk;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(feature = "openapi")]
mod openapi_schemas;
pub mod ops;
pub mod pages;
pub mod passcode;
pub mod passcodes;
pub mod policy;
pub mod ra;
pub mod recovery;
pub mod register;
pub mod renewal;
pub mod time;
pub mod unlock;
pub mod values;

pub use endpoint::{Endpoint, Method};
pub use error::{ApiError, ErrorCode};
pub use passcode::{CardPasscode, PasscodeError};
pub use values::{AttemptId, CardGuid, UnlockCode, ValueError};
