//! Card login and sessions (AUTH-1, AUTH-2), in the shape every flow copies
//! ([`crate::flow`]): the card proves who holds it by signing a fresh, single-use server
//! challenge with its 9A key after the PIN (verified on the card, through the bridge); the
//! server checks the signature against the certificate its CA issued to that card, and
//! that the certificate is current and not revoked; then a server-side session — stored
//! in the database so any instance serves it, found by the SHA-256 of the secret in an
//! HttpOnly, SameSite=Strict cookie — ends after an idle time and an absolute time from
//! configuration, or at logout. Finding the session behind a cookie is the kernel's
//! ([`crate::flow::session`]), since every signed-in flow needs it.

mod card_again;
mod contact;
mod login;
mod logout;
mod my_card;

pub use crate::flow::CurrentSession;
pub use login::Login;

/// How long a login challenge may be answered.
pub const LOGIN_CHALLENGE_TTL: i64 = 120;
