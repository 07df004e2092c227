//! Card bridge integration tests: the real bridge on port 0, in front of a real virtual
//! card (in-process for `simulated`, through pcscd + vpcd for `pcsc`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod card_ops;
mod fuzz_inputs;
mod grants;
mod helpers;
mod login;
mod pcsc;
mod pin;
mod relay;
mod security;
mod tls;
