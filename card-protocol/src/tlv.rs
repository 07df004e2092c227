//! BER-TLV as PIV uses it: multi-byte tags (up to 4 bytes, kept as a big-endian `u32`,
//! e.g. `0x5FC102`) and definite lengths in short form or long form `81`/`82`/`83`/`84`.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    #[error("TLV truncated at offset {0}")]
    Truncated(usize),
    #[error("TLV tag longer than 4 bytes at offset {0}")]
    TagTooLong(usize),
    #[error("unsupported TLV length byte {byte:#04x} at offset {offset}")]
    BadLength { offset: usize, byte: u8 },
}

/// One TLV, borrowing its value from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u32,
    pub value: &'a [u8],
}

impl Tlv<'_> {
    pub fn encode(&self) -> Vec<u8> {
        encode(self.tag, self.value)
    }
}

/// Every top-level TLV in `input`, in order. Trailing garbage is an error.
pub fn parse_all(input: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < input.len() {
        let (tlv, next) = parse_one(input, pos)?;
        out.push(tlv);
        pos = next;
    }
    Ok(out)
}

/// The value of the first top-level TLV with `tag`.
pub fn find(input: &[u8], tag: u32) -> Result<Option<&[u8]>, TlvError> {
    Ok(parse_all(input)?
        .into_iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value))
}

fn parse_one(input: &[u8], start: usize) -> Result<(Tlv<'_>, usize), TlvError> {
    let byte_at = |i: usize| input.get(i).copied().ok_or(TlvError::Truncated(i));
    let mut pos = start;
    let first = byte_at(pos)?;
    pos += 1;
    let mut tag = u32::from(first);
    if first & 0x1F == 0x1F {
        // Subsequent tag bytes continue while b8 is set.
        loop {
            if pos - start >= 4 {
                return Err(TlvError::TagTooLong(start));
            }
            let b = byte_at(pos)?;
            pos += 1;
            tag = (tag << 8) | u32::from(b);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let len_offset = pos;
    let l = byte_at(pos)?;
    pos += 1;
    let len = match l {
        0x00..=0x7F => usize::from(l),
        0x81..=0x84 => {
            let n = usize::from(l & 0x7F);
            let bytes = input
                .get(pos..pos + n)
                .ok_or(TlvError::Truncated(input.len()))?;
            pos += n;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        }
        _ => {
            return Err(TlvError::BadLength {
                offset: len_offset,
                byte: l,
            })
        }
    };
    let end = pos.checked_add(len).ok_or(TlvError::Truncated(pos))?;
    let value = input
        .get(pos..end)
        .ok_or(TlvError::Truncated(input.len()))?;
    Ok((Tlv { tag, value }, end))
}

/// Encode one TLV. The tag is written as its big-endian bytes without leading zeros.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    encode_into(&mut out, tag, value);
    out
}

/// Append one TLV to `out`.
pub fn encode_into(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend(tag_bytes.iter().skip(skip));
    let n = value.len();
    let len_bytes = (n as u64).to_be_bytes();
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0xFF => out.extend([0x81, n as u8]),
        0x100..=0xFFFF => out.push(0x82),
        0x1_0000..=0xFF_FFFF => out.push(0x83),
        _ => out.push(0x84),
    }
    let long = match n {
        0..=0xFF => 0,
        0x100..=0xFFFF => 2,
        0x1_0000..=0xFF_FFFF => 3,
        _ => 4,
    };
    out.extend(len_bytes.iter().skip(8 - long));
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_piv_shapes() {
        // 5C 03 5F C1 02 (GET DATA tag list).
        let t = parse_all(&[0x5C, 0x03, 0x5F, 0xC1, 0x02]).unwrap();
        assert_eq!(
            t,
            vec![Tlv {
                tag: 0x5C,
                value: &[0x5F, 0xC1, 0x02]
            }]
        );
        let two_byte_tag = encode(0x5F2D, &[1]);
        assert_eq!(two_byte_tag, vec![0x5F, 0x2D, 0x01, 1]);
        assert_eq!(find(&two_byte_tag, 0x5F2D).unwrap(), Some(&[1u8][..]));
        assert_eq!(find(&two_byte_tag, 0x5F).unwrap(), None);
    }

    #[test]
    fn long_form_lengths() {
        assert_eq!(
            encode(0x53, &[0; 0x80]).get(..3),
            Some(&[0x53, 0x81, 0x80][..])
        );
        assert_eq!(
            encode(0x53, &[0; 0x1234]).get(..4),
            Some(&[0x53, 0x82, 0x12, 0x34][..])
        );
        assert_eq!(
            encode(0x53, &[0; 0x10000]).get(..5),
            Some(&[0x53, 0x83, 0x01, 0x00, 0x00][..])
        );
        assert_eq!(encode(0x00, &[]), vec![0x00, 0x00]);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(parse_all(&[0x53, 0x02, 0x01]), Err(TlvError::Truncated(3)));
        assert!(matches!(
            parse_all(&[0x53, 0x80]),
            Err(TlvError::BadLength { byte: 0x80, .. })
        ));
        assert!(matches!(
            parse_all(&[0x53, 0x85, 0, 0, 0, 0, 0]),
            Err(TlvError::BadLength { .. })
        ));
        assert_eq!(
            parse_all(&[0x5F, 0x81, 0x82, 0x83, 0x84, 0x00]),
            Err(TlvError::TagTooLong(0))
        );
        assert_eq!(parse_all(&[0x5F]), Err(TlvError::Truncated(1)));
        assert!(parse_all(&[0x53, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
    }

    /// Valid BER tags: one byte without low bits 11111, or a 0x1F-style first byte
    /// followed by continuation bytes (b8 set) and a last byte (b8 clear).
    fn tag() -> impl Strategy<Value = u32> {
        prop_oneof![
            any::<u8>()
                .prop_filter("single-byte", |b| b & 0x1F != 0x1F)
                .prop_map(u32::from),
            (
                any::<u8>(),
                proptest::collection::vec(0x80u8..=0xFF, 0..=2),
                0u8..0x80
            )
                .prop_map(|(f, mid, last)| {
                    let mut t = u32::from(f | 0x1F);
                    for m in mid {
                        t = (t << 8) | u32::from(m);
                    }
                    (t << 8) | u32::from(last)
                }),
        ]
    }

    proptest! {
        #[test]
        fn tlv_round_trips(items in proptest::collection::vec((tag(), proptest::collection::vec(any::<u8>(), 0..400)), 0..4)) {
            let mut bytes = Vec::new();
            for (t, v) in &items {
                encode_into(&mut bytes, *t, v);
            }
            let parsed = parse_all(&bytes).unwrap();
            prop_assert_eq!(parsed.len(), items.len());
            for (p, (t, v)) in parsed.iter().zip(&items) {
                prop_assert_eq!(p.tag, *t);
                prop_assert_eq!(p.value, &v[..]);
            }
        }

        // ALL-2: arbitrary bytes never panic the parser.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), tag: u32) {
            if let Ok(all) = parse_all(&bytes) {
                let re: Vec<u8> = all.iter().flat_map(|t| t.encode()).collect();
                prop_assert!(re.len() <= bytes.len());
            }
            let _ = find(&bytes, tag);
        }
    }
}
