//! A PIV client over any [`CardTransport`]: sends commands, follows `61xx` (GET RESPONSE)
//! and `6Cxx` (re-send with Le), and maps status words to typed errors that keep the raw
//! SW. It does not begin or end PC/SC transactions; callers wrap it in one.
//!
//! Commands carrying a PIN or PUK, and their encodings, are wiped once sent (BRG-6). A
//! new PIN the card refuses as one of its last five is [`PivError::PinReused`] (CARD-5).

use crate::apdu::{ApduError, CommandApdu, ResponseApdu};
use crate::ins::Ins;
use crate::issue;
use crate::pin::{Pin, PinError, Puk};
use crate::piv::{self, Chuid, PinStatus};
use crate::slot::KeySlot;
use crate::sw::StatusWord;
use crate::tlv::TlvError;
use thiserror::Error;
use zeroize::{Zeroize, Zeroizing};

/// Most GET RESPONSE rounds one command may take (64 × 256 bytes = 16 KiB), so a
/// misbehaving card cannot keep us looping.
const MAX_GET_RESPONSE: usize = 64;

/// Sends one command APDU and returns the card's full response APDU (data + SW).
pub trait CardTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
}

impl<T: CardTransport + ?Sized> CardTransport for &mut T {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

impl<T: CardTransport + ?Sized> CardTransport for Box<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        (**self).transmit(command)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    #[error("the card was removed")]
    CardRemoved,
    #[error("no card in the reader")]
    NoCard,
    #[error("the card did not answer in time")]
    Timeout,
    #[error("card transport error: {0}")]
    Other(String),
}

#[derive(Debug, Error)]
pub enum PivError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("bad APDU: {0}")]
    Apdu(#[from] ApduError),
    #[error("bad TLV from the card: {0}")]
    Tlv(#[from] TlvError),
    #[error("bad PIN or PUK: {0}")]
    Pin(#[from] PinError),
    #[error("card answered {sw} to INS {ins:02X}")]
    Status { ins: u8, sw: StatusWord },
    #[error("wrong PIN, {tries_left} tries left")]
    WrongPin { tries_left: u8 },
    #[error("the PIN is blocked")]
    Blocked,
    #[error("the card refuses a new PIN equal to one of its last five")]
    PinReused,
    #[error("wrong PUK, {tries_left} tries left")]
    WrongPuk { tries_left: u8 },
    #[error("the PUK is blocked")]
    PukBlocked,
    #[error("malformed card data: {0}")]
    Malformed(String),
}

impl PivError {
    /// The card's raw status word, where the error came from one.
    pub fn status_word(&self) -> Option<StatusWord> {
        match self {
            PivError::Status { sw, .. } => Some(*sw),
            PivError::WrongPin { tries_left } | PivError::WrongPuk { tries_left } => {
                Some(StatusWord::tries(*tries_left))
            }
            PivError::Blocked | PivError::PukBlocked => Some(StatusWord::AUTH_METHOD_BLOCKED),
            PivError::PinReused => Some(StatusWord::PIN_REUSED),
            _ => None,
        }
    }
}

pub struct PivClient<T: CardTransport> {
    transport: T,
}

impl<T: CardTransport> PivClient<T> {
    pub fn new(transport: T) -> Self {
        Self { transport }
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn into_inner(self) -> T {
        self.transport
    }

    /// Send `cmd`; follow `61xx` with GET RESPONSE (concatenating data) and `6Cxx` by
    /// re-sending once with the Le the card asked for.
    /// The encoded bytes (and a re-sent copy) are wiped afterwards: they may hold a PIN.
    pub fn transmit(&mut self, cmd: &CommandApdu) -> Result<ResponseApdu, PivError> {
        let bytes = Zeroizing::new(cmd.try_to_bytes()?);
        let first = self.exchange(&bytes)?;
        if let Some(le) = first.sw.correct_le() {
            let retry =
                Zeroizing::new(
                    cmd.clone()
                        .with_le(if le == 0 { 256 } else { usize::from(le) }),
                );
            let again = self.exchange(&Zeroizing::new(retry.try_to_bytes()?))?;
            return self.follow_chain(again);
        }
        self.follow_chain(first)
    }

    /// Sends a command that carries a PIN or PUK, then wipes it (BRG-6).
    fn transmit_secret(&mut self, mut cmd: CommandApdu) -> Result<StatusWord, PivError> {
        let result = self.transmit(&cmd);
        cmd.zeroize();
        Ok(result?.sw)
    }

    fn exchange(&mut self, bytes: &[u8]) -> Result<ResponseApdu, PivError> {
        let raw = self.transport.transmit(bytes)?;
        Ok(ResponseApdu::parse(&raw)?)
    }

    fn follow_chain(&mut self, mut resp: ResponseApdu) -> Result<ResponseApdu, PivError> {
        let mut data = std::mem::take(&mut resp.data);
        let mut sw = resp.sw;
        let mut rounds = 0;
        while let Some(avail) = sw.bytes_available() {
            rounds += 1;
            if rounds > MAX_GET_RESPONSE {
                return Err(PivError::Malformed(
                    "card kept answering 61xx (response too long)".into(),
                ));
            }
            let le = if avail == 0 { 256 } else { usize::from(avail) };
            let get = CommandApdu::new(0x00, Ins::GetResponse, 0x00, 0x00).with_le(le);
            let next = self.exchange(&get.try_to_bytes()?)?;
            data.extend_from_slice(&next.data);
            sw = next.sw;
        }
        Ok(ResponseApdu::new(data, sw))
    }

    fn expect_success(&mut self, cmd: &CommandApdu) -> Result<Vec<u8>, PivError> {
        let resp = self.transmit(cmd)?;
        if resp.sw.is_success() {
            Ok(resp.data)
        } else {
            Err(PivError::Status {
                ins: cmd.ins,
                sw: resp.sw,
            })
        }
    }

    pub fn select(&mut self) -> Result<(), PivError> {
        self.expect_success(&piv::select()).map(|_| ())
    }

    /// Read the CHUID (no PIN needed, CARD-1).
    pub fn read_chuid(&mut self) -> Result<Chuid, PivError> {
        let data = self.expect_success(&piv::get_data(piv::TAG_CHUID))?;
        Chuid::parse(&data)
    }

    /// Empty VERIFY: costs no try (BRG-6).
    pub fn pin_status(&mut self) -> Result<PinStatus, PivError> {
        let resp = self.transmit(&piv::verify_pin_status())?;
        piv::pin_status_from_sw(resp.sw)
    }

    pub fn verify_pin(&mut self, pin: &Pin) -> Result<(), PivError> {
        let sw = self.transmit_secret(piv::verify_pin(pin))?;
        pin_result(Ins::Verify, sw)
    }

    /// VERIFY with P1=FF: the PIN is no longer verified. `Ok(false)` when the card does
    /// not support it (then only a reset clears it).
    pub fn forget_pin(&mut self) -> Result<bool, PivError> {
        Ok(self.transmit(&piv::verify_pin_reset())?.sw.is_success())
    }

    /// CHANGE REFERENCE DATA for the PIN. A new PIN equal to one of the card's last five
    /// is [`PivError::PinReused`] (CARD-5, [`StatusWord::PIN_REUSED`]).
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), PivError> {
        let sw = self.transmit_secret(piv::change_pin(old, new))?;
        if sw == StatusWord::PIN_REUSED {
            return Err(PivError::PinReused);
        }
        pin_result(Ins::ChangeReferenceData, sw)
    }

    pub fn change_puk(&mut self, old: &Puk, new: &Puk) -> Result<(), PivError> {
        let sw = self.transmit_secret(piv::change_puk(old, new))?;
        puk_result(Ins::ChangeReferenceData, sw)
    }

    /// Unblock the PIN with the PUK and set a new PIN.
    pub fn reset_retry_counter(&mut self, puk: &Puk, new_pin: &Pin) -> Result<(), PivError> {
        let sw = self.transmit_secret(piv::reset_retry_counter(puk, new_pin))?;
        puk_result(Ins::ResetRetryCounter, sw)
    }

    /// Sign a P-256 digest with the 9E card authentication key (no PIN, CARD-6).
    /// Returns the DER signature.
    pub fn sign_with_card_auth_key(&mut self, digest: &[u8; 32]) -> Result<Vec<u8>, PivError> {
        let data =
            self.expect_success(&piv::general_authenticate_sign(KeySlot::CardAuth, digest))?;
        piv::parse_signature(&data)
    }

    /// Sign a P-256 digest with the 9A PIV authentication key (AUTH-1). The card wants
    /// the PIN verified first in this card session; otherwise it answers `6982`
    /// ([`PivError::Status`]). Returns the DER signature.
    pub fn sign_with_piv_auth_key(&mut self, digest: &[u8; 32]) -> Result<Vec<u8>, PivError> {
        let data =
            self.expect_success(&piv::general_authenticate_sign(KeySlot::PivAuth, digest))?;
        piv::parse_signature(&data)
    }

    /// The DER certificate in the slot's certificate object (no PIN needed); `None` when
    /// the card has none there.
    pub fn read_certificate(&mut self, slot: KeySlot) -> Result<Option<Vec<u8>>, PivError> {
        let answer = self.transmit(&issue::read_certificate(slot))?;
        issue::certificate(&answer)
    }

    /// Run raw command APDUs in order, returning each raw response (data + SW, with
    /// `61xx` chains already collected). Stops after the first response that is not 9000.
    /// Commands are sent byte for byte as given (a secure channel MACs them).
    pub fn run_script(&mut self, apdus: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, PivError> {
        let mut out = Vec::with_capacity(apdus.len());
        for raw in apdus {
            // Refuse malformed commands before anything reaches the card.
            let cmd = CommandApdu::parse(raw)?;
            let first = self.exchange(raw)?;
            let resp = match first.sw.correct_le() {
                Some(le) => {
                    let retry = cmd.with_le(if le == 0 { 256 } else { usize::from(le) });
                    let again = self.exchange(&retry.try_to_bytes()?)?;
                    self.follow_chain(again)?
                }
                None => self.follow_chain(first)?,
            };
            let ok = resp.sw.is_success();
            out.push(resp.to_bytes());
            if !ok {
                break;
            }
        }
        Ok(out)
    }
}

fn pin_result(ins: Ins, sw: StatusWord) -> Result<(), PivError> {
    if sw.is_success() {
        return Ok(());
    }
    if sw.is_blocked() {
        return Err(PivError::Blocked);
    }
    match sw.tries_left() {
        Some(0) => Err(PivError::Blocked),
        Some(tries_left) => Err(PivError::WrongPin { tries_left }),
        None => Err(PivError::Status {
            ins: ins.byte(),
            sw,
        }),
    }
}

fn puk_result(ins: Ins, sw: StatusWord) -> Result<(), PivError> {
    if sw.is_success() {
        return Ok(());
    }
    if sw.is_blocked() {
        return Err(PivError::PukBlocked);
    }
    match sw.tries_left() {
        Some(0) => Err(PivError::PukBlocked),
        Some(tries_left) => Err(PivError::WrongPuk { tries_left }),
        None => Err(PivError::Status {
            ins: ins.byte(),
            sw,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// Replays scripted responses and records what was sent.
    struct Replay {
        sent: Vec<Vec<u8>>,
        replies: VecDeque<Result<Vec<u8>, TransportError>>,
    }

    impl Replay {
        fn new(replies: Vec<Vec<u8>>) -> Self {
            Self {
                sent: Vec::new(),
                replies: replies.into_iter().map(Ok).collect(),
            }
        }
    }

    impl CardTransport for Replay {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.sent.push(command.to_vec());
            self.replies
                .pop_front()
                .unwrap_or(Err(TransportError::CardRemoved))
        }
    }

    #[test]
    fn follows_61xx_chain_with_get_response() {
        let chuid = Chuid {
            guid: [0x42; 16],
            fasc_n: vec![1; 25],
            expiration: "20991231".into(),
        }
        .encode();
        let (a, rest) = chuid.split_at(10);
        let (b, c) = rest.split_at(20);
        let mut r1 = a.to_vec();
        r1.extend([0x61, 20]);
        let mut r2 = b.to_vec();
        r2.extend([0x61, 0x00]);
        let mut r3 = c.to_vec();
        r3.extend([0x90, 0x00]);
        let mut client = PivClient::new(Replay::new(vec![r1, r2, r3]));
        let got = client.read_chuid().unwrap();
        assert_eq!(got.guid, [0x42; 16]);
        let sent = &client.transport_mut().sent;
        assert_eq!(sent.get(1), Some(&hex("00 C0 00 00 14")));
        assert_eq!(sent.get(2), Some(&hex("00 C0 00 00 00")));
    }

    #[test]
    fn resends_with_le_on_6cxx() {
        let mut client = PivClient::new(Replay::new(vec![hex("6C 02"), hex("AB CD 90 00")]));
        let resp = client
            .transmit(&CommandApdu::raw(0, 0xCA, 0, 0).with_le(256))
            .unwrap();
        assert_eq!(resp.data, hex("AB CD"));
        assert_eq!(
            client.transport_mut().sent.get(1),
            Some(&hex("00 CA 00 00 02"))
        );
    }

    #[test]
    fn endless_chain_is_an_error_not_a_hang() {
        let mut client = PivClient::new(Replay::new(vec![hex("61 01"); 100]));
        assert!(matches!(
            client.transmit(&piv::select()),
            Err(PivError::Malformed(_))
        ));
    }

    #[test]
    fn card_2_verify_maps_tries_and_blocked() {
        let pin = Pin::parse("1234").unwrap();
        let mut client = PivClient::new(Replay::new(vec![
            hex("63 C2"),
            hex("63 C0"),
            hex("69 83"),
            hex("90 00"),
            hex("6A 80"),
        ]));
        assert!(matches!(
            client.verify_pin(&pin),
            Err(PivError::WrongPin { tries_left: 2 })
        ));
        assert!(matches!(client.verify_pin(&pin), Err(PivError::Blocked)));
        assert!(matches!(client.verify_pin(&pin), Err(PivError::Blocked)));
        client.verify_pin(&pin).unwrap();
        let err = client.verify_pin(&pin).unwrap_err();
        assert_eq!(err.status_word(), Some(StatusWord::WRONG_DATA));
    }

    #[test]
    fn card_5_a_reused_pin_is_its_own_error() {
        let (old, new) = (Pin::parse("1234").unwrap(), Pin::parse("5678").unwrap());
        let mut client = PivClient::new(Replay::new(vec![hex("6A 89"), hex("6A 80")]));
        let reused = client.change_pin(&old, &new).unwrap_err();
        assert!(matches!(reused, PivError::PinReused));
        assert_eq!(reused.status_word(), Some(StatusWord::PIN_REUSED));
        assert!(matches!(
            client.change_pin(&old, &new),
            Err(PivError::Status {
                ins,
                sw: StatusWord::WRONG_DATA
            }) if Ins::parse(ins) == Some(Ins::ChangeReferenceData)
        ));
    }

    #[test]
    fn brg_6_a_sent_pin_command_can_be_wiped() {
        let mut cmd = piv::verify_pin(&Pin::parse("s3cret").unwrap());
        cmd.zeroize();
        assert!(cmd.data.is_empty(), "Vec::zeroize wipes then clears");
        assert_eq!((cmd.cla, cmd.ins, cmd.le), (0, 0, None));
    }

    #[test]
    fn pin_status_sends_empty_verify() {
        let mut client = PivClient::new(Replay::new(vec![hex("63 C3")]));
        assert_eq!(client.pin_status().unwrap(), PinStatus::TriesLeft(3));
        assert_eq!(client.transport_mut().sent, vec![hex("00 20 00 80")]);
    }

    #[test]
    fn puk_errors_are_typed() {
        let puk = Puk::parse("12345678").unwrap();
        let pin = Pin::parse("1234").unwrap();
        let mut client = PivClient::new(Replay::new(vec![hex("63 C1"), hex("69 83")]));
        assert!(matches!(
            client.reset_retry_counter(&puk, &pin),
            Err(PivError::WrongPuk { tries_left: 1 })
        ));
        assert!(matches!(
            client.reset_retry_counter(&puk, &pin),
            Err(PivError::PukBlocked)
        ));
    }

    #[test]
    fn sign_extracts_der() {
        let sig = hex("30 06 02 01 01 02 01 02");
        let mut resp = crate::tlv::encode(0x7C, &crate::tlv::encode(0x82, &sig));
        resp.extend([0x90, 0x00]);
        let mut client = PivClient::new(Replay::new(vec![resp]));
        assert_eq!(client.sign_with_card_auth_key(&[0; 32]).unwrap(), sig);
        let mut client = PivClient::new(Replay::new(vec![hex("6A 86")]));
        assert!(matches!(
            client.sign_with_card_auth_key(&[0; 32]),
            Err(PivError::Status {
                ins,
                sw: StatusWord(0x6A86)
            }) if Ins::parse(ins) == Some(Ins::GeneralAuthenticate)
        ));
    }

    #[test]
    fn auth_1_piv_auth_signature_needs_the_pin_and_uses_slot_9a() {
        let sig = hex("30 06 02 01 01 02 01 02");
        let mut resp = crate::tlv::encode(0x7C, &crate::tlv::encode(0x82, &sig));
        resp.extend([0x90, 0x00]);
        let mut client = PivClient::new(Replay::new(vec![hex("69 82"), resp]));
        let refused = client.sign_with_piv_auth_key(&[0; 32]).unwrap_err();
        assert_eq!(
            refused.status_word(),
            Some(StatusWord::SECURITY_STATUS_NOT_SATISFIED)
        );
        assert_eq!(client.sign_with_piv_auth_key(&[0; 32]).unwrap(), sig);
        let sent = &client.transport_mut().sent;
        assert!(sent
            .iter()
            .all(|c| c.get(..4) == Some(&hex("00 87 11 9A")[..])));
    }

    #[test]
    fn cert_1_read_certificate_follows_the_chain_and_knows_an_empty_slot() {
        let der: Vec<u8> = [vec![0x30, 0x82, 0x01, 0xF0], vec![0xA5; 0x1F0]].concat();
        let object = issue::certificate_object(&der);
        let (first, rest) = object.split_at(256);
        let mut r1 = first.to_vec();
        r1.extend([0x61, rest.len() as u8]);
        let mut r2 = rest.to_vec();
        r2.extend([0x90, 0x00]);
        let mut client = PivClient::new(Replay::new(vec![r1, r2, hex("6A 82")]));
        assert_eq!(
            client.read_certificate(KeySlot::PivAuth).unwrap(),
            Some(der)
        );
        assert_eq!(client.read_certificate(KeySlot::CardAuth).unwrap(), None);
        let sent = &client.transport_mut().sent;
        assert_eq!(sent.first(), Some(&hex("00 CB 3F FF 05 5C 03 5F C1 05 00")));
        assert_eq!(sent.get(2), Some(&hex("00 CB 3F FF 05 5C 03 5F C1 01 00")));
    }

    #[test]
    fn run_script_stops_at_first_failure_and_collects_chains() {
        let script = vec![
            hex("00 A4 04 00 05 A0 00 00 03 08"),
            hex("00 20 00 80"),
            hex("00 20 00 80"),
        ];
        let mut client = PivClient::new(Replay::new(vec![
            hex("01 02 61 02"),
            hex("03 04 90 00"),
            hex("63 C1"),
        ]));
        let out = client.run_script(&script).unwrap();
        assert_eq!(out, vec![hex("01 02 03 04 90 00"), hex("63 C1")]);
        // The third command never went out.
        assert_eq!(client.transport_mut().sent.len(), 3);
        assert_eq!(client.transport_mut().sent.first(), script.first());
    }

    #[test]
    fn run_script_refuses_malformed_commands_and_reports_removal() {
        let mut client = PivClient::new(Replay::new(vec![]));
        assert!(matches!(
            client.run_script(&[vec![0, 1]]),
            Err(PivError::Apdu(_))
        ));
        assert!(client.transport_mut().sent.is_empty());
        assert!(matches!(
            client.run_script(&[hex("00 20 00 80")]),
            Err(PivError::Transport(TransportError::CardRemoved))
        ));
    }

    proptest::proptest! {
        // ALL-2: whatever a card (or a fake one) answers, the client returns, never panics.
        #[test]
        fn arbitrary_card_answers_never_panic(
            replies in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), 0..6),
            op in 0u8..10,
        ) {
            let mut client = PivClient::new(Replay::new(replies));
            let pin = Pin::parse("1234").unwrap();
            let puk = Puk::parse("12345678").unwrap();
            let _ = match op {
                0 => client.select().map(|_| ()),
                1 => client.read_chuid().map(|_| ()),
                2 => client.pin_status().map(|_| ()),
                3 => client.verify_pin(&pin),
                4 => client.change_pin(&pin, &pin),
                5 => client.reset_retry_counter(&puk, &pin),
                6 => client.sign_with_card_auth_key(&[0; 32]).map(|_| ()),
                7 => client.sign_with_piv_auth_key(&[0; 32]).map(|_| ()),
                8 => client.read_certificate(KeySlot::PivAuth).map(|_| ()),
                _ => client.run_script(&[hex("00 20 00 80"), hex("00 A4 04 00 01 A0 00")]).map(|_| ()),
            };
        }
    }

    #[test]
    fn garbage_response_is_an_error() {
        let mut client = PivClient::new(Replay::new(vec![vec![0x90]]));
        assert!(matches!(client.select(), Err(PivError::Apdu(_))));
    }
}
