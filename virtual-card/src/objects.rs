//! The card's fixed data objects (CARD-1): SELECT's application property template, the
//! discovery object, the test FASC-N and the CHUID's expiry date.

use card_protocol::{piv, tlv};

/// SP 800-73-4 test FASC-N (agency 9999), as used on test cards.
pub(crate) const TEST_FASC_N: [u8; 25] = [
    0xD4, 0xE7, 0x39, 0xDA, 0x73, 0x9C, 0xED, 0x39, 0xCE, 0x73, 0x9D, 0x83, 0x68, 0x58, 0x21, 0x08,
    0x42, 0x10, 0x84, 0x21, 0xC8, 0x42, 0x10, 0xC3, 0xEB,
];
pub(crate) const TAG_DISCOVERY: u32 = 0x7E;

/// SELECT's answer (SP 800-73-4 part 2, 3.1.1): application property template.
pub(crate) fn application_property_template() -> Vec<u8> {
    let mut body = tlv::encode(0x4F, piv::PIV_AID_FULL.get(5..).unwrap_or_default());
    tlv::encode_into(&mut body, 0x79, &tlv::encode(0x4F, piv::PIV_AID));
    tlv::encode_into(&mut body, 0x50, b"Smartcard Self-Service virtual PIV");
    let mut algs = tlv::encode(0x80, &[piv::ALG_ECC_P256]);
    tlv::encode_into(&mut algs, 0x06, &[0x00]);
    tlv::encode_into(&mut body, 0xAC, &algs);
    tlv::encode(0x61, &body)
}

/// Discovery object: the PIV AID and a PIN usage policy of "PIV PIN only".
pub(crate) fn discovery_object() -> Vec<u8> {
    let mut body = tlv::encode(0x4F, piv::PIV_AID_FULL);
    tlv::encode_into(&mut body, 0x5F2F, &[0x40, 0x00]);
    tlv::encode(TAG_DISCOVERY, &body)
}

/// `YYYYMMDD`, `years` from today (UTC), for the CHUID expiry.
pub(crate) fn expiry_in_years(years: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (y, m, d) = civil_from_days(days);
    format!("{:04}{:02}{:02}", y + years, m, d.min(28))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }
}
