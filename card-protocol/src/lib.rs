//! The card's language, written once: command/response APDUs, their instructions
//! ([`Ins`]) and the key slots they name ([`KeySlot`]), BER-TLV, status words,
//! PIN/PUK encoding (CARD-2) and the PIV commands (CARD-1), the SCP03 secure channel and
//! the scripts run inside it (unlock, issuance: CARD-3, CERT-1), plus a transport-agnostic
//! PIV client. Pure: no I/O here; callers supply a [`client::CardTransport`].

pub mod apdu;
pub mod client;
pub mod ins;
pub mod issue;
pub mod metadata;
pub mod pin;
pub mod piv;
pub mod renew;
pub mod scp03;
pub mod signed_for;
pub mod slot;
pub mod sw;
pub mod tlv;
pub mod unlock;

pub use apdu::{ApduError, CommandApdu, ResponseApdu};
pub use client::{CardTransport, PivClient, PivError, TransportError};
pub use ins::Ins;
pub use pin::{Pin, PinError, Puk};
pub use signed_for::SignedFor;
pub use slot::{KeySlot, NotAKeySlot};
pub use sw::StatusWord;
pub use tlv::{Tlv, TlvError};
