//! ISO 7816-4 command and response APDUs, cases 1–4 in short and extended form.

use crate::ins::Ins;
use crate::sw::StatusWord;
use thiserror::Error;
use zeroize::Zeroize;

/// Largest command data an APDU can carry (extended Lc).
pub const MAX_DATA: usize = 0xFFFF;
/// Largest Le an APDU can ask for (extended Le `00 00`).
pub const MAX_LE: usize = 0x1_0000;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    #[error("APDU too short ({0} bytes)")]
    TooShort(usize),
    #[error("APDU length fields do not match its size ({0} bytes)")]
    BadLength(usize),
    #[error("command data too long to encode ({0} bytes, max 65535)")]
    DataTooLong(usize),
}

/// A command APDU. Commands that carry a PIN or PUK are wiped with [`Zeroize`] once sent
/// (BRG-6); there is deliberately no `Drop` wiping, so fields can still be moved out.
///
/// Built with an [`Ins`]; the `ins` byte stays raw because a command read off the wire
/// may carry any byte ([`Self::instruction`] reads it, and a card answers `6D00` when no
/// [`Ins`] names it).
#[derive(Debug, Clone, PartialEq, Eq, Zeroize)]
pub struct CommandApdu {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length; `Some(256)` is short `Le = 00`, `Some(65536)` extended `00 00`.
    pub le: Option<usize>,
}

impl CommandApdu {
    pub fn new(cla: u8, ins: Ins, p1: u8, p2: u8) -> Self {
        Self::raw(cla, ins.byte(), p1, p2)
    }

    /// A command whose INS is a byte no [`Ins`] may name: one read off the wire, or one a
    /// test sends to see a card refuse it. Everything this product sends uses [`Self::new`].
    pub fn raw(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// The instruction, if the INS byte is one we know.
    pub fn instruction(&self) -> Option<Ins> {
        Ins::parse(self.ins)
    }

    /// Whether this is an `ins` command.
    pub fn is(&self, ins: Ins) -> bool {
        self.ins == ins.byte()
    }

    pub fn with_data(mut self, data: Vec<u8>) -> Self {
        self.data = data;
        self
    }

    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// Short form unless data > 255 bytes or Le > 256, then extended.
    /// An Le above 65536 is sent as 65536 ("as much as you have"); `Some(0)` as 256.
    pub fn try_to_bytes(&self) -> Result<Vec<u8>, ApduError> {
        let n = self.data.len();
        if n > MAX_DATA {
            return Err(ApduError::DataTooLong(n));
        }
        let le = self.le.map(|le| if le == 0 { 256 } else { le.min(MAX_LE) });
        let extended = n > 255 || le.is_some_and(|le| le > 256);
        let mut out = Vec::with_capacity(n + 9);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if extended {
            if n > 0 {
                out.push(0);
                out.extend_from_slice(&(n as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = le {
                if n == 0 {
                    out.push(0);
                }
                // 65536 encodes as 00 00: the cast wraps exactly as the format wants.
                out.extend_from_slice(&((le & 0xFFFF) as u16).to_be_bytes());
            }
        } else {
            if n > 0 {
                out.push(n as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = le {
                out.push((le & 0xFF) as u8);
            }
        }
        Ok(out)
    }

    /// Like [`Self::try_to_bytes`]; data over 65535 bytes gives an empty vector, which no
    /// card accepts, rather than a silently different command.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.try_to_bytes().unwrap_or_default()
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let (&[cla, ins, p1, p2], body) = split_header(bytes)?;
        let mut cmd = Self::raw(cla, ins, p1, p2);
        let bad = || ApduError::BadLength(bytes.len());
        match body {
            // Case 1.
            [] => {}
            // Case 2 short.
            [le] => cmd.le = Some(short_le(*le)),
            // Extended: 00 then two bytes.
            [0, rest @ ..] if rest.len() >= 2 => {
                let (lc_or_le, rest) = rest.split_at(2);
                let value = usize::from(u16::from_be_bytes([
                    *lc_or_le.first().ok_or_else(bad)?,
                    *lc_or_le.get(1).ok_or_else(bad)?,
                ]));
                if rest.is_empty() {
                    // Case 2 extended.
                    cmd.le = Some(ext_le(value));
                } else {
                    if value == 0 {
                        return Err(bad());
                    }
                    let data = rest.get(..value).ok_or_else(bad)?;
                    match rest.get(value..) {
                        Some([]) => {}
                        Some(&[hi, lo]) => {
                            cmd.le = Some(ext_le(usize::from(u16::from_be_bytes([hi, lo]))))
                        }
                        _ => return Err(bad()),
                    }
                    cmd.data = data.to_vec();
                }
            }
            [lc, rest @ ..] if *lc != 0 => {
                let lc = usize::from(*lc);
                let data = rest.get(..lc).ok_or_else(bad)?;
                match rest.get(lc..) {
                    Some([]) => {}
                    Some(&[le]) => cmd.le = Some(short_le(le)),
                    _ => return Err(bad()),
                }
                cmd.data = data.to_vec();
            }
            _ => return Err(bad()),
        }
        Ok(cmd)
    }
}

fn split_header(bytes: &[u8]) -> Result<(&[u8; 4], &[u8]), ApduError> {
    let (head, body) = bytes
        .split_first_chunk::<4>()
        .ok_or(ApduError::TooShort(bytes.len()))?;
    Ok((head, body))
}

fn short_le(b: u8) -> usize {
    if b == 0 {
        256
    } else {
        usize::from(b)
    }
}

fn ext_le(v: usize) -> usize {
    if v == 0 {
        MAX_LE
    } else {
        v
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    pub data: Vec<u8>,
    pub sw: StatusWord,
}

impl ResponseApdu {
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Self { data, sw }
    }

    /// A response with no data.
    pub fn status(sw: StatusWord) -> Self {
        Self::new(Vec::new(), sw)
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, ApduError> {
        let (data, &[sw1, sw2]) = bytes
            .split_last_chunk::<2>()
            .ok_or(ApduError::TooShort(bytes.len()))?;
        Ok(Self::new(data.to_vec(), StatusWord::from_bytes(sw1, sw2)))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }

    pub fn is_success(&self) -> bool {
        self.sw.is_success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn encodes_the_four_short_cases() {
        let c = CommandApdu::new(0, Ins::Verify, 0, 0x80);
        assert_eq!(c.to_bytes(), hex("00 20 00 80"));
        assert_eq!(c.clone().with_le(256).to_bytes(), hex("00 20 00 80 00"));
        let c3 = c.clone().with_data(vec![1, 2]);
        assert_eq!(c3.to_bytes(), hex("00 20 00 80 02 01 02"));
        assert_eq!(c3.with_le(16).to_bytes(), hex("00 20 00 80 02 01 02 10"));
    }

    #[test]
    fn goes_extended_only_when_needed() {
        let c = CommandApdu::new(0, Ins::PutData, 0x3F, 0xFF).with_data(vec![7; 300]);
        let b = c.to_bytes();
        assert_eq!(b.get(..7), Some(&hex("00 DB 3F FF 00 01 2C")[..]));
        assert_eq!(b.len(), 7 + 300);
        let c2 = CommandApdu::new(0, Ins::GetData, 0x3F, 0xFF).with_le(65536);
        assert_eq!(c2.to_bytes(), hex("00 CB 3F FF 00 00 00"));
        let c4 = c.with_le(1000);
        assert_eq!(c4.to_bytes().get(307..), Some(&hex("03 E8")[..]));
        assert_eq!(CommandApdu::parse(&c4.to_bytes()).unwrap(), c4);
    }

    #[test]
    fn data_too_long_is_an_error_not_a_panic() {
        let c = CommandApdu::raw(0, 0, 0, 0).with_data(vec![0; MAX_DATA + 1]);
        assert_eq!(c.try_to_bytes(), Err(ApduError::DataTooLong(MAX_DATA + 1)));
        assert!(c.to_bytes().is_empty());
    }

    #[test]
    fn rejects_inconsistent_lengths() {
        assert_eq!(CommandApdu::parse(&[0, 1, 2]), Err(ApduError::TooShort(3)));
        assert!(CommandApdu::parse(&hex("00 20 00 80 03 01 02")).is_err());
        assert!(CommandApdu::parse(&hex("00 20 00 80 01 01 02 03")).is_err());
        assert!(CommandApdu::parse(&hex("00 20 00 80 00 00")).is_err());
        assert!(CommandApdu::parse(&hex("00 20 00 80 00 00 00 01")).is_err());
        assert!(ResponseApdu::parse(&[0x90]).is_err());
    }

    #[test]
    fn response_split() {
        let r = ResponseApdu::parse(&hex("01 02 63 C2")).unwrap();
        assert_eq!(r.data, vec![1, 2]);
        assert_eq!(r.sw.tries_left(), Some(2));
    }

    fn command() -> impl Strategy<Value = CommandApdu> {
        (
            any::<[u8; 4]>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..=255),
                proptest::collection::vec(any::<u8>(), 0..=600),
            ],
            proptest::option::of(prop_oneof![1usize..=256, 1usize..=MAX_LE]),
        )
            .prop_map(|([cla, ins, p1, p2], data, le)| CommandApdu {
                cla,
                ins,
                p1,
                p2,
                data,
                le,
            })
    }

    proptest! {
        #[test]
        fn command_round_trips(c in command()) {
            let bytes = c.to_bytes();
            let short = c.data.len() <= 255 && c.le.is_none_or(|le| le <= 256);
            let expected_len = 4
                + if c.data.is_empty() { 0 } else if short { 1 } else { 3 } + c.data.len()
                + match c.le { None => 0, Some(_) if short => 1, Some(_) if c.data.is_empty() => 3, Some(_) => 2 };
            prop_assert_eq!(bytes.len(), expected_len);
            prop_assert_eq!(CommandApdu::parse(&bytes).unwrap(), c);
        }

        #[test]
        fn response_round_trips(data in proptest::collection::vec(any::<u8>(), 0..300), sw: u16) {
            let r = ResponseApdu::new(data, StatusWord(sw));
            prop_assert_eq!(ResponseApdu::parse(&r.to_bytes()).unwrap(), r);
        }

        // ALL-2: no input makes a parser panic; what parses re-encodes to itself or a
        // shorter canonical form that parses to the same command.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(c) = CommandApdu::parse(&bytes) {
                prop_assert_eq!(CommandApdu::parse(&c.to_bytes()).unwrap(), c);
            }
            let _ = ResponseApdu::parse(&bytes);
        }
    }
}
