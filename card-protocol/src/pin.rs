//! PIN and PUK values as the card sees them (CARD-2): printable ASCII, PIN padded with
//! 0xFF to 8 bytes. Buffers are zeroised on drop, compared in constant time, and never
//! printed by `Debug`.

use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::Zeroizing;

pub const PIN_MIN: usize = 4;
pub const PIN_MAX: usize = 8;
pub const PUK_LEN: usize = 8;
const PAD: u8 = 0xFF;
const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PinError {
    #[error("a PIN must be 4 to 8 characters long")]
    PinLength,
    #[error("a PUK must be exactly 8 characters long")]
    PukLength,
    #[error("only standard keyboard characters (printable ASCII) are allowed")]
    NotPrintable,
    #[error("the padded PIN is not 8 bytes of printable ASCII followed by 0xFF padding")]
    BadPadding,
}

fn printable(b: u8) -> bool {
    (0x20..=0x7E).contains(&b)
}

/// A card PIN: 4–8 printable ASCII characters, held in PIV's 8-byte 0xFF-padded form.
#[derive(Clone)]
pub struct Pin(Zeroizing<[u8; 8]>);

impl Pin {
    pub fn parse(pin: &str) -> Result<Pin, PinError> {
        let bytes = pin.as_bytes();
        if !bytes.iter().all(|&b| printable(b)) {
            return Err(PinError::NotPrintable);
        }
        if !(PIN_MIN..=PIN_MAX).contains(&bytes.len()) {
            return Err(PinError::PinLength);
        }
        let mut padded = Zeroizing::new([PAD; 8]);
        for (slot, &b) in padded.iter_mut().zip(bytes) {
            *slot = b;
        }
        Ok(Pin(padded))
    }

    /// Validate PIV's padded form: 4–8 printable bytes, then only 0xFF, 8 bytes in all.
    pub fn from_padded(padded: &[u8]) -> Result<Pin, PinError> {
        let arr: &[u8; 8] = padded.try_into().map_err(|_| PinError::BadPadding)?;
        let len = arr.iter().position(|&b| b == PAD).unwrap_or(PIN_MAX);
        let (chars, pad) = arr.split_at(len);
        if len < PIN_MIN || !chars.iter().all(|&b| printable(b)) || !pad.iter().all(|&b| b == PAD) {
            return Err(PinError::BadPadding);
        }
        Ok(Pin(Zeroizing::new(*arr)))
    }

    pub fn padded(&self) -> &[u8; 8] {
        &self.0
    }

    /// Number of characters (without padding).
    pub fn len(&self) -> usize {
        self.0.iter().position(|&b| b == PAD).unwrap_or(PIN_MAX)
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// A random one-time PIN of 8 alphanumerics (CARD-3 unlock).
    pub fn generate_one_time<R: CryptoRngCore>(rng: &mut R) -> Pin {
        Pin(random_alphanumeric(rng))
    }
}

/// A random one-time PIN of 8 alphanumerics, uniformly chosen.
pub fn generate_one_time_pin<R: CryptoRngCore>(rng: &mut R) -> Pin {
    Pin::generate_one_time(rng)
}

impl PartialEq for Pin {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}
impl Eq for Pin {}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// A PUK: exactly 8 printable ASCII characters.
#[derive(Clone)]
pub struct Puk(Zeroizing<[u8; 8]>);

impl Puk {
    pub fn parse(puk: &str) -> Result<Puk, PinError> {
        Self::from_bytes(puk.as_bytes())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Puk, PinError> {
        if !bytes.iter().all(|&b| printable(b)) {
            return Err(PinError::NotPrintable);
        }
        let arr: [u8; 8] = bytes.try_into().map_err(|_| PinError::PukLength)?;
        Ok(Puk(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8; 8] {
        &self.0
    }

    /// The PUK as text (always ASCII, so never fails in practice).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&*self.0).unwrap_or_default()
    }

    /// 8 random alphanumerics, uniformly chosen (CARD-3: each card its own PUK).
    pub fn generate<R: CryptoRngCore>(rng: &mut R) -> Puk {
        Puk(random_alphanumeric(rng))
    }
}

impl PartialEq for Puk {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}
impl Eq for Puk {}

impl std::fmt::Debug for Puk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Puk(********)")
    }
}

/// Rejection sampling: bytes >= 248 (= 4 * 62) are dropped so `b % 62` is unbiased.
fn random_alphanumeric<R: CryptoRngCore>(rng: &mut R) -> Zeroizing<[u8; 8]> {
    let mut out = Zeroizing::new([0u8; 8]);
    let mut filled = 0;
    let mut buf = Zeroizing::new([0u8; 16]);
    while filled < out.len() {
        rng.fill_bytes(&mut *buf);
        for &b in buf.iter() {
            if b >= 248 {
                continue;
            }
            let Some(slot) = out.get_mut(filled) else {
                break;
            };
            *slot = ALPHANUMERIC
                .get(usize::from(b % 62))
                .copied()
                .unwrap_or(b'A');
            filled += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::OsRng;

    #[test]
    fn card_2_padding() {
        let p = Pin::parse("1234").unwrap();
        assert_eq!(p.padded(), b"1234\xFF\xFF\xFF\xFF");
        assert_eq!(p.len(), 4);
        assert_eq!(Pin::parse("a b!~8*(").unwrap().padded(), b"a b!~8*(");
        assert_eq!(Pin::parse("123").unwrap_err(), PinError::PinLength);
        assert_eq!(Pin::parse("123456789").unwrap_err(), PinError::PinLength);
        assert_eq!(Pin::parse("12\u{e9}4").unwrap_err(), PinError::NotPrintable);
        assert_eq!(Pin::parse("12\t4").unwrap_err(), PinError::NotPrintable);
    }

    #[test]
    fn card_2_from_padded_rejects_bad_forms() {
        assert!(Pin::from_padded(b"1234\xFF\xFF\xFF\xFF").is_ok());
        assert!(Pin::from_padded(b"12345678").is_ok());
        assert!(Pin::from_padded(b"123\xFF\xFF\xFF\xFF\xFF").is_err());
        assert!(Pin::from_padded(b"1234\xFF5\xFF\xFF").is_err());
        assert!(Pin::from_padded(b"1234\x00\xFF\xFF\xFF").is_err());
        assert!(Pin::from_padded(b"1234\xFF\xFF\xFF").is_err());
        assert!(Pin::from_padded(b"").is_err());
    }

    #[test]
    fn puk_is_exactly_8_printable() {
        assert_eq!(Puk::parse("12345678").unwrap().as_bytes(), b"12345678");
        assert_eq!(Puk::parse("1234567").unwrap_err(), PinError::PukLength);
        assert_eq!(Puk::parse("123456789").unwrap_err(), PinError::PukLength);
        assert_eq!(
            Puk::from_bytes(b"1234567\xFF").unwrap_err(),
            PinError::NotPrintable
        );
    }

    #[test]
    fn secrets_never_in_debug() {
        let p = Pin::parse("s3cret").unwrap();
        assert!(!format!("{p:?}").contains("s3cret"));
        let k = Puk::parse("pukpuk12").unwrap();
        assert!(!format!("{k:?}").contains("pukpuk12"));
    }

    #[test]
    fn generated_values_are_alphanumeric_and_differ() {
        let a = Puk::generate(&mut OsRng);
        let b = Puk::generate(&mut OsRng);
        assert!(a.as_bytes().iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
        let p = generate_one_time_pin(&mut OsRng);
        assert_eq!(p.len(), 8);
        assert!(p.padded().iter().all(u8::is_ascii_alphanumeric));
    }

    #[test]
    fn generation_skips_biased_bytes() {
        // A stream of 255s (rejected) then 0..: must yield "ABCDEFGH".
        struct Seq(u8, u32);
        impl rand_core::RngCore for Seq {
            fn next_u32(&mut self) -> u32 {
                0
            }
            fn next_u64(&mut self) -> u64 {
                0
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                for d in dest {
                    if self.1 < 20 {
                        self.1 += 1;
                        *d = 0xFF;
                    } else {
                        *d = self.0;
                        self.0 = self.0.wrapping_add(1);
                    }
                }
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
                self.fill_bytes(dest);
                Ok(())
            }
        }
        impl rand_core::CryptoRng for Seq {}
        assert_eq!(Puk::generate(&mut Seq(0, 0)).as_bytes(), b"ABCDEFGH");
    }

    proptest! {
        // CARD-2: accepted exactly when 4..=8 printable ASCII; padding round-trips.
        #[test]
        fn card_2_pin_rule_and_padding_round_trip(s in "\\PC{0,10}") {
            let ok = (4..=8).contains(&s.len()) && s.bytes().all(printable);
            let parsed = Pin::parse(&s);
            prop_assert_eq!(parsed.is_ok(), ok);
            if let Ok(pin) = parsed {
                let padded = *pin.padded();
                prop_assert_eq!(&padded[..s.len()], s.as_bytes());
                prop_assert!(padded[s.len()..].iter().all(|&b| b == 0xFF));
                prop_assert_eq!(Pin::from_padded(&padded).unwrap(), pin);
            }
        }

        #[test]
        fn card_2_printable_pins_always_accepted(s in "[ -~]{4,8}") {
            prop_assert!(Pin::parse(&s).is_ok());
        }

        // ALL-2: arbitrary bytes never panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
            if let Ok(p) = Pin::from_padded(&bytes) {
                prop_assert_eq!(&p.padded()[..], &bytes[..]);
            }
            let _ = Puk::from_bytes(&bytes);
        }
    }
}
