//! PIN and PUK (CARD-2, CARD-5, UNL-6): VERIFY, CHANGE REFERENCE DATA and RESET RETRY
//! COUNTER, over one try-counter rule that saves a spent try before judging it.

use super::{Reply, VirtualCard};
use card_protocol::apdu::CommandApdu;
use card_protocol::piv;
use card_protocol::{Pin, Puk, StatusWord};

impl VirtualCard {
    fn pin_status(&self) -> StatusWord {
        if self.pin_verified {
            StatusWord::SUCCESS
        } else if self.pin_tries_left == 0 {
            StatusWord::AUTH_METHOD_BLOCKED
        } else {
            StatusWord::tries(self.pin_tries_left)
        }
    }

    pub(super) fn verify(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p2 != piv::KEY_REF_PIN {
            return Err(StatusWord::REF_DATA_NOT_FOUND);
        }
        match cmd.p1 {
            // P1=FF: reset the PIN's security status.
            0xFF if cmd.data.is_empty() => {
                self.pin_verified = false;
                return Ok(Vec::new());
            }
            0xFF => return Err(StatusWord::WRONG_DATA),
            0x00 => {}
            _ => return Err(StatusWord::INCORRECT_P1P2),
        }
        if cmd.data.is_empty() {
            // BRG-6: status only, costs no try.
            let sw = self.pin_status();
            return if sw.is_success() {
                Ok(Vec::new())
            } else {
                Err(sw)
            };
        }
        let candidate = Pin::from_padded(&cmd.data).map_err(|_| StatusWord::WRONG_DATA)?;
        self.check_pin(&candidate)?;
        Ok(Vec::new())
    }

    fn check_pin(&mut self, candidate: &Pin) -> Result<(), StatusWord> {
        self.pin_verified = false;
        let right = *candidate == self.pin;
        self.spend_try(Secret::Pin, right)?;
        self.pin_verified = true;
        Ok(())
    }

    fn check_puk(&mut self, candidate: &Puk) -> Result<(), StatusWord> {
        let right = *candidate == self.puk;
        self.spend_try(Secret::Puk, right)
    }

    /// The one try-counter rule for PIN and PUK: spend a try first and save it, then
    /// judge, so pulling the card mid-check can never give a free guess; a right value
    /// restores the tries (CARD-2).
    fn spend_try(&mut self, secret: Secret, right: bool) -> Result<(), StatusWord> {
        let (tries_left, max_tries) = match secret {
            Secret::Pin => (&mut self.pin_tries_left, self.pin_max_tries),
            Secret::Puk => (&mut self.puk_tries_left, self.puk_max_tries),
        };
        if *tries_left == 0 {
            return Err(StatusWord::AUTH_METHOD_BLOCKED);
        }
        *tries_left -= 1;
        let left = *tries_left;
        self.commit()?;
        if !right {
            return Err(tries_or_blocked(left));
        }
        match secret {
            Secret::Pin => self.pin_tries_left = max_tries,
            Secret::Puk => self.puk_tries_left = max_tries,
        }
        self.commit()
    }

    pub(super) fn change_reference_data(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let (old, new) = split_16(&cmd.data)?;
        match cmd.p2 {
            piv::KEY_REF_PIN => {
                let old = Pin::from_padded(old).map_err(|_| StatusWord::WRONG_DATA)?;
                let new = Pin::from_padded(new).map_err(|_| StatusWord::WRONG_DATA)?;
                self.check_pin(&old)?;
                // CARD-5, except right after an unlock (UNL-6 allows the old passcode).
                if !self.pin_reset_pending && self.pin_history.contains(&new) {
                    return Err(StatusWord::PIN_REUSED);
                }
                self.pin_history.push(&new);
                self.pin = new;
                self.pin_reset_pending = false;
                self.commit()?;
                Ok(Vec::new())
            }
            piv::KEY_REF_PUK => {
                let old = Puk::from_bytes(old).map_err(|_| StatusWord::WRONG_DATA)?;
                let new = Puk::from_bytes(new).map_err(|_| StatusWord::WRONG_DATA)?;
                self.check_puk(&old)?;
                self.puk = new;
                self.commit()?;
                Ok(Vec::new())
            }
            _ => Err(StatusWord::REF_DATA_NOT_FOUND),
        }
    }

    /// PUK || new PIN: unblocks and sets the PIN. The new (one-time) PIN is not added to
    /// the CARD-5 history, and the next change may reuse an old PIN (UNL-6).
    pub(super) fn reset_retry_counter(&mut self, cmd: &CommandApdu) -> Reply {
        if cmd.p1 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        if cmd.p2 != piv::KEY_REF_PIN {
            return Err(StatusWord::REF_DATA_NOT_FOUND);
        }
        let (puk, pin) = split_16(&cmd.data)?;
        let puk = Puk::from_bytes(puk).map_err(|_| StatusWord::WRONG_DATA)?;
        let pin = Pin::from_padded(pin).map_err(|_| StatusWord::WRONG_DATA)?;
        self.check_puk(&puk)?;
        self.pin = pin;
        self.pin_tries_left = self.pin_max_tries;
        self.pin_verified = false;
        self.pin_reset_pending = true;
        self.commit()?;
        Ok(Vec::new())
    }
}

/// Which try counter [`VirtualCard::spend_try`] works on.
#[derive(Clone, Copy)]
enum Secret {
    Pin,
    Puk,
}

fn split_16(data: &[u8]) -> Result<(&[u8], &[u8]), StatusWord> {
    if data.len() != 16 {
        return Err(StatusWord::WRONG_DATA);
    }
    Ok(data.split_at(8))
}

fn tries_or_blocked(left: u8) -> StatusWord {
    if left == 0 {
        StatusWord::AUTH_METHOD_BLOCKED
    } else {
        StatusWord::tries(left)
    }
}
