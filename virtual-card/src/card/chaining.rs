//! ISO chaining both ways (CARD-1): command chaining (CLA bit `10`) collected up to a cap,
//! and long answers sent in parts (`61xx`, GET RESPONSE) unless an extended Le takes them
//! at once.

use super::VirtualCard;
use card_protocol::apdu::{CommandApdu, ResponseApdu};
use card_protocol::{piv, StatusWord};

/// Cap on command-chained data, so a client cannot grow the card's buffer forever.
const MAX_CHAINED: usize = 8 * 1024;
/// Largest response sent without 61xx chaining (short Le).
const SHORT_MAX: usize = 256;

impl VirtualCard {
    /// ISO command chaining (CLA bit 0x10): collect data until the last command.
    /// `Ok(None)`: more parts to come.
    pub(super) fn unchain(
        &mut self,
        mut cmd: CommandApdu,
    ) -> Result<Option<CommandApdu>, StatusWord> {
        let key = [cmd.ins, cmd.p1, cmd.p2];
        let mut data = match self.chain.take() {
            Some((k, data)) if k == key => data,
            _ => Vec::new(),
        };
        data.extend_from_slice(&cmd.data);
        if data.len() > MAX_CHAINED {
            return Err(StatusWord::WRONG_LENGTH);
        }
        if cmd.cla & piv::CLA_CHAINING != 0 {
            self.chain = Some((key, data));
            return Ok(None);
        }
        cmd.data = data;
        Ok(Some(cmd))
    }

    /// A successful answer longer than Le allows goes out in parts (61xx, GET RESPONSE).
    pub(super) fn deliver(
        &mut self,
        mut response: ResponseApdu,
        le: Option<usize>,
    ) -> ResponseApdu {
        let limit = le.filter(|&l| l > SHORT_MAX).unwrap_or(SHORT_MAX);
        if response.sw != StatusWord::SUCCESS || response.data.len() <= limit {
            return response;
        }
        self.pending = response.data.split_off(SHORT_MAX);
        ResponseApdu::new(response.data, more_data(self.pending.len()))
    }

    pub(super) fn get_response(&mut self, cmd: &CommandApdu) -> ResponseApdu {
        if self.pending.is_empty() {
            return ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        if cmd.p1 != 0 || cmd.p2 != 0 {
            self.pending.clear();
            return ResponseApdu::status(StatusWord::INCORRECT_P1P2);
        }
        let want = cmd.le.unwrap_or(SHORT_MAX).min(self.pending.len());
        let rest = self.pending.split_off(want);
        let chunk = std::mem::replace(&mut self.pending, rest);
        let sw = if self.pending.is_empty() {
            StatusWord::SUCCESS
        } else {
            more_data(self.pending.len())
        };
        ResponseApdu::new(chunk, sw)
    }
}

fn more_data(remaining: usize) -> StatusWord {
    // 61 00 means 256 or more.
    StatusWord::more_data(u8::try_from(remaining).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::CreateOptions;
    use card_protocol::{piv, Ins};

    fn success(data: Vec<u8>) -> ResponseApdu {
        ResponseApdu::new(data, StatusWord::SUCCESS)
    }

    #[test]
    fn card_1_long_responses_chain_with_61xx_and_get_response() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let data: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
        let first = card.deliver(success(data.clone()), Some(256));
        assert_eq!(first.data.len(), 256);
        assert_eq!(first.sw, StatusWord(0x6100)); // 344 left: "256 or more"
        let get = |le: usize| {
            CommandApdu::new(0, Ins::GetResponse, 0, 0)
                .with_le(le)
                .to_bytes()
        };
        let second = ResponseApdu::parse(&card.process(&get(256))).unwrap();
        assert_eq!(second.sw, StatusWord(0x6158)); // 88 left
        let third = ResponseApdu::parse(&card.process(&get(0x58))).unwrap();
        assert_eq!(third.sw, StatusWord::SUCCESS);
        let all: Vec<u8> = [first.data, second.data, third.data].concat();
        assert_eq!(all, data);
        // Nothing left: GET RESPONSE is refused.
        assert_eq!(card.process(&get(256)), vec![0x69, 0x85]);
    }

    #[test]
    fn card_1_extended_le_gets_everything_at_once() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let r = card.deliver(success(vec![7; 600]), Some(65536));
        assert_eq!((r.data.len(), r.sw), (600, StatusWord::SUCCESS));
    }

    #[test]
    fn card_1_any_other_command_drops_pending_data() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        let _ = card.deliver(success(vec![7; 600]), None);
        card.process(&piv::select().to_bytes());
        let get = CommandApdu::new(0, Ins::GetResponse, 0, 0)
            .with_le(256)
            .to_bytes();
        assert_eq!(card.process(&get), vec![0x69, 0x85]);
    }

    #[test]
    fn card_1_chained_data_is_capped() {
        let mut card = VirtualCard::create(&CreateOptions::default()).unwrap();
        card.process(&piv::select().to_bytes());
        let part = CommandApdu::new(0x10, Ins::GetData, 0x3F, 0xFF).with_data(vec![0; 255]);
        let answers: Vec<Vec<u8>> = (0..33).map(|_| card.process(&part.to_bytes())).collect();
        // 32 × 255 = 8160 bytes fit; the 33rd part goes over 8 KiB.
        assert!(answers[..32].iter().all(|a| a == &[0x90, 0x00]));
        assert_eq!(answers[32], vec![0x67, 0x00]);
        // The chain was dropped; the card answers normally again.
        let chuid = card.process(&piv::get_data(piv::TAG_CHUID).to_bytes());
        assert_eq!(chuid.get(chuid.len() - 2..), Some(&[0x90, 0x00][..]));
    }
}
