//! The secure messaging both ends share once EXTERNAL AUTHENTICATE is done (Amendment D
//! §6.2.4–6.2.7): C-MAC chaining, command encryption with the counter's ICV, R-MAC over the
//! command's chaining value, response encryption with the response ICV. The host protects
//! commands and opens responses; the card opens commands and protects responses.

use super::crypto::{SessionKeys, BLOCK};
use super::{Scp03Error, SecurityLevel};
use crate::apdu::{CommandApdu, ResponseApdu, MAX_DATA, MAX_LE};
use crate::sw::StatusWord;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Length of a C-MAC or R-MAC on the wire (S8 mode).
pub(crate) const MAC_LEN: usize = 8;
/// The CLA bit for GlobalPlatform proprietary secure messaging.
pub(crate) const CLA_SM: u8 = 0x04;
/// CLA bits a plain command may not have: further interindustry class (b7), secure
/// messaging already (b4, b3), a logical channel other than the basic one (b2, b1).
const CLA_REFUSED: u8 = 0x4F;

/// What a response is checked against: the chaining value and counter of its command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    chaining: [u8; BLOCK],
    counter: u64,
}

pub(crate) struct Channel {
    keys: SessionKeys,
    level: SecurityLevel,
    pub(super) chaining: [u8; BLOCK],
    pub(super) counter: u64,
    open: bool,
}

impl Channel {
    pub(crate) fn new(keys: SessionKeys, level: SecurityLevel) -> Self {
        Self {
            keys,
            level,
            chaining: [0; BLOCK],
            counter: 0,
            open: true,
        }
    }

    pub(crate) fn level(&self) -> SecurityLevel {
        self.level
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    pub(crate) fn ensure_open(&self) -> Result<(), Scp03Error> {
        if self.open {
            Ok(())
        } else {
            Err(Scp03Error::SessionClosed)
        }
    }

    /// Closes the session and returns `error`: nothing more goes through it.
    pub(crate) fn fail<T>(&mut self, error: Scp03Error) -> Result<T, Scp03Error> {
        self.open = false;
        Err(error)
    }

    /// The C-MAC of a command whose data field (without the MAC) is `body`: CMAC with S-MAC
    /// over the chaining value, the header with CLA's channel and SM bits normalised to
    /// `04`, Lc counting the MAC, and `body`. The full result becomes the chaining value.
    pub(crate) fn command_mac(&mut self, header: [u8; 4], body: &[u8]) -> [u8; MAC_LEN] {
        let [cla, ins, p1, p2] = header;
        let lc = body.len() + MAC_LEN;
        let lc_field: Vec<u8> = match u8::try_from(lc) {
            Ok(short) => vec![short],
            Err(_) => {
                let [hi, lo] = u16::try_from(lc).unwrap_or(u16::MAX).to_be_bytes();
                vec![0, hi, lo]
            }
        };
        let mac_header = [(cla & 0xF0) | CLA_SM, ins, p1, p2];
        self.chaining = self
            .keys
            .mac
            .cmac(&[&self.chaining, &mac_header, &lc_field, body]);
        first_eight(&self.chaining)
    }

    fn next_counter(&mut self) -> Result<u64, Scp03Error> {
        match self.counter.checked_add(1) {
            Some(next) => {
                self.counter = next;
                Ok(next)
            }
            None => self.fail(Scp03Error::CounterExhausted),
        }
    }

    /// ICV for command encryption: the counter as a 16-byte block, encrypted with S-ENC;
    /// for responses the block's first byte is `80`.
    fn icv(&self, counter: u64, response: bool) -> [u8; BLOCK] {
        let mut block = [0u8; BLOCK];
        block
            .iter_mut()
            .skip(BLOCK - 8)
            .zip(counter.to_be_bytes())
            .for_each(|(d, s)| *d = s);
        if response {
            block[0] = 0x80;
        }
        self.keys.enc.encrypt_block(block)
    }

    /// Host: protect a plain command. The plaintext data is wiped once used.
    pub(crate) fn protect_command(
        &mut self,
        mut command: CommandApdu,
    ) -> Result<(CommandApdu, Exchange), Scp03Error> {
        self.ensure_open()?;
        if command.cla & CLA_REFUSED != 0 {
            return Err(Scp03Error::UnsupportedClass(command.cla));
        }
        let n = command.data.len();
        let sealed_len = if self.level.c_dec() && n > 0 {
            (n / BLOCK + 1) * BLOCK
        } else {
            n
        };
        if sealed_len + MAC_LEN > MAX_DATA {
            return Err(Scp03Error::DataTooLong(n));
        }
        let counter = self.next_counter()?;
        let mut data = if self.level.c_dec() && n > 0 {
            self.keys
                .enc
                .cbc_encrypt(&self.icv(counter, false), &command.data)
        } else {
            command.data.clone()
        };
        command.data.zeroize();
        let cla = command.cla | CLA_SM;
        let mac = self.command_mac([cla, command.ins, command.p1, command.p2], &data);
        data.extend_from_slice(&mac);
        let sealed = CommandApdu {
            cla,
            data,
            ..command
        };
        let exchange = Exchange {
            chaining: self.chaining,
            counter,
        };
        Ok((sealed, exchange))
    }

    /// Host: take account of a command this session protected earlier, from its sealed
    /// bytes alone, so a host that kept only those can check the answers (the plaintext is
    /// not needed and not recovered). The MAC must be the one this session computes.
    pub(crate) fn replay_command(&mut self, command: &CommandApdu) -> Result<Exchange, Scp03Error> {
        self.ensure_open()?;
        let counter = self.next_counter()?;
        let Some(split) = command.data.len().checked_sub(MAC_LEN) else {
            return self.fail(Scp03Error::NotThisSession);
        };
        let (body, received) = command.data.split_at(split);
        let header = [command.cla, command.ins, command.p1, command.p2];
        let expected = self.command_mac(header, body);
        if command.cla & CLA_SM == 0 || !bool::from(expected.ct_eq(received)) {
            return self.fail(Scp03Error::NotThisSession);
        }
        Ok(Exchange {
            chaining: self.chaining,
            counter,
        })
    }

    /// Card: check and open a protected command. Any failure closes the session.
    pub(crate) fn open_command(
        &mut self,
        command: CommandApdu,
    ) -> Result<(CommandApdu, Exchange), Scp03Error> {
        self.ensure_open()?;
        let cla = command.cla;
        if cla & CLA_SM == 0 {
            return self.fail(Scp03Error::NotSecured);
        }
        if cla & !CLA_SM & CLA_REFUSED != 0 {
            return self.fail(Scp03Error::UnsupportedClass(cla));
        }
        let counter = self.next_counter()?;
        let Some(split) = command.data.len().checked_sub(MAC_LEN) else {
            return self.fail(Scp03Error::WrongLength(command.data.len()));
        };
        let (body, received) = command.data.split_at(split);
        let expected = self.command_mac([cla, command.ins, command.p1, command.p2], body);
        if !bool::from(expected.ct_eq(received)) {
            return self.fail(Scp03Error::BadMac);
        }
        let data = if self.level.c_dec() && !body.is_empty() {
            match self.keys.enc.cbc_decrypt(&self.icv(counter, false), body) {
                // The host never encrypts an empty data field.
                Ok(plain) if plain.is_empty() => return self.fail(Scp03Error::BadPadding),
                Ok(plain) => plain,
                Err(e) => return self.fail(e),
            }
        } else {
            body.to_vec()
        };
        let plain = CommandApdu {
            cla: cla & !CLA_SM,
            data,
            ..command
        };
        let exchange = Exchange {
            chaining: self.chaining,
            counter,
        };
        Ok((plain, exchange))
    }

    fn response_mac(&self, exchange: &Exchange, data: &[u8], sw: StatusWord) -> [u8; MAC_LEN] {
        let full = self
            .keys
            .rmac
            .cmac(&[&exchange.chaining, data, &sw.to_bytes()]);
        first_eight(&full)
    }

    /// Card: protect the response to the command of `exchange`. The plaintext is wiped.
    pub(crate) fn protect_response(
        &mut self,
        exchange: &Exchange,
        mut response: ResponseApdu,
    ) -> Result<ResponseApdu, Scp03Error> {
        self.ensure_open()?;
        if !self.level.r_mac() {
            return Ok(response);
        }
        if is_error(response.sw) {
            response.data.zeroize();
            return Ok(ResponseApdu::status(response.sw));
        }
        let n = response.data.len();
        let sealed_len = if self.level.r_enc() && n > 0 {
            (n / BLOCK + 1) * BLOCK
        } else {
            n
        };
        if sealed_len + MAC_LEN > MAX_LE {
            return Err(Scp03Error::DataTooLong(n));
        }
        let mut data = if self.level.r_enc() && n > 0 {
            let iv = self.icv(exchange.counter, true);
            self.keys.enc.cbc_encrypt(&iv, &response.data)
        } else {
            response.data.clone()
        };
        response.data.zeroize();
        let mac = self.response_mac(exchange, &data, response.sw);
        data.extend_from_slice(&mac);
        Ok(ResponseApdu::new(data, response.sw))
    }

    /// Host: check and open the response to the command of `exchange`. Any failure closes
    /// the session.
    pub(crate) fn open_response(
        &mut self,
        exchange: &Exchange,
        response: ResponseApdu,
    ) -> Result<ResponseApdu, Scp03Error> {
        self.ensure_open()?;
        if !self.level.r_mac() {
            return Ok(response);
        }
        if is_error(response.sw) {
            // Error status words travel bare; data with one means tampering.
            if !response.data.is_empty() {
                return self.fail(Scp03Error::UnexpectedResponse);
            }
            return Ok(response);
        }
        let Some(split) = response.data.len().checked_sub(MAC_LEN) else {
            return self.fail(Scp03Error::WrongLength(response.data.len()));
        };
        let (body, received) = response.data.split_at(split);
        let expected = self.response_mac(exchange, body, response.sw);
        if !bool::from(expected.ct_eq(received)) {
            return self.fail(Scp03Error::BadMac);
        }
        let data = if self.level.r_enc() && !body.is_empty() {
            let iv = self.icv(exchange.counter, true);
            match self.keys.enc.cbc_decrypt(&iv, body) {
                Ok(plain) if plain.is_empty() => return self.fail(Scp03Error::BadPadding),
                Ok(plain) => plain,
                Err(e) => return self.fail(e),
            }
        } else {
            body.to_vec()
        };
        Ok(ResponseApdu::new(data, response.sw))
    }
}

/// Amendment D §6.2.5: every status word but `9000`, `62xx` and `63xx` is an error.
fn is_error(sw: StatusWord) -> bool {
    !(sw.is_success() || sw.sw1() == 0x62 || sw.sw1() == 0x63)
}

fn first_eight(block: &[u8; BLOCK]) -> [u8; MAC_LEN] {
    let mut out = [0u8; MAC_LEN];
    out.iter_mut().zip(block).for_each(|(d, s)| *d = *s);
    out
}
