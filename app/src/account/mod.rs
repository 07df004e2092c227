//! Card login (AUTH-1, AUTH-2) and "My card": the page reads the tries left from the card
//! before anything is tried (BRG-6), warns before the last try and sends
//! `confirm_last_try` only after the user confirms; the PIN is verified on the card and
//! the card signs the server's challenge (through the bridge); the session lives on the
//! server behind an HttpOnly cookie. Registration for self-service unlock (REG-1…REG-4)
//! starts from "My card" with the same passcode check on the card.

mod events;
mod my_card;
mod not_me;
mod passcodes;
mod passcodes_due;
mod register;
mod renew;
mod renewal_due;
mod sign_in;
mod timeline;

pub use my_card::MyCard;
pub use not_me::NotMePage;
pub use passcodes::ManagePasscodes;
pub use register::Register;
pub use renew::Renew;
pub use sign_in::SignIn;
