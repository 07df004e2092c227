//! A software PIV smartcard (CARD-1…CARD-6) with file-backed state (CARD-4). It runs
//! in-process behind [`SharedCard`] (a [`card_protocol::CardTransport`]) or plugs into the
//! real PC/SC stack through vsmartcard's vpcd driver ([`vpcd`]).
//!
//! Standard tools checked against it through pcscd (see `tests/pcsc.rs`):
//! `opensc-tool -r '<reader>' --serial` (the CHUID GUID), `pkcs15-tool -r '<reader>'
//! --dump` / `--verify-pin --pin 123456`, and `yubico-piv-tool -r '<reader>' -a status |
//! verify-pin | change-pin | unblock-pin` (yubico-piv-tool wants 6–8 character PINs).
//!
//! Admin commands can also arrive sealed in a GlobalPlatform SCP03 channel that the server
//! opens and this card terminates (CARD-3; see `secure_channel.rs`); plain commands are
//! answered exactly as without it. Issuance (GENERATE ASYMMETRIC KEY PAIR for 9A and 9E,
//! PUT DATA of their certificates) is accepted only sealed, in place of PIV's 9B card
//! management key (`card/keys.rs`); the certificates are then read by any PIV middleware
//! (`pkcs15-tool --list-certificates`, `pkcs11-tool --sign` with the 9A key after
//! `--login`), as `tests/pcsc.rs` checks.
//!
//! Card profile beyond PIV: PINs of 4–8 printable characters; CHANGE REFERENCE DATA
//! refuses a new PIN equal to one of the last five with this product's own status word
//! `6A89` ([`card_protocol::StatusWord::PIN_REUSED`], CARD-5), except for the first
//! change after RESET RETRY COUNTER (UNL-6); GET VERSION (FD) and GET SERIAL (F8) are
//! answered as a YubiKey 5.1.2 would, so yubico-piv-tool works.

mod card;
mod objects;
mod pin_history;
mod secure_channel;
mod shared;
mod state;
pub mod vpcd;

pub use card::{CreateOptions, VirtualCard, ATR};
pub use secure_channel::{Scp03KeySet, SCP03_KEY_VERSION};
pub use shared::SharedCard;
pub use state::{CardError, CardState, Scp03State, STATE_VERSION};
