//! OPS-1: an example of each endpoint's request and of its answer, for the OpenAPI
//! document; the document's builder checks each one reads as its endpoint's type.
//!
//! The people are the demo's (`seed-demo`): John Rigby (555555555501) unlocks his card with
//! his security questions, and an RA reads his record; Jane Doe (555555555502) uses the
//! Smartcard Service Centre's route, then, signed in, registers, renews her certificates
//! and changes her passcodes; Grace Okafor (`ra:555555555504`) is the RA. The clock reads
//! 2026-11-23 12:45:00 UTC (1_795_437_900); the page is served from the default
//! `public_origin`. Ids, signatures, grants and the card's answers are made up: each APDU
//! is the right command with the right lengths, but no card or key stands behind them.
//!
//! - `values`: the made-up GUIDs, signatures, APDUs and grants the examples share.
//! - `requests`, `responses`: each endpoint's, by its name.

mod requests;
mod responses;
mod values;

pub use requests::request;
pub use responses::response;
