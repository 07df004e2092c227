//! The card's ECDSA P-256 signatures (AUTH-1, CARD-6): the same signatures as p256's
//! `SigningKey::sign_prehash` (RFC 6979 nonces), byte for byte, with the nonce's point
//! k·G read from a table of the generator's multiples built once per process. p256
//! doubles its way through k for every signature, and that was a tenth of all the CPU of
//! the sign-in bench (issue 22), whose clients sign with in-process cards beside the
//! server. Every digit reads its whole row of the table, so the time does not depend on k.

use std::sync::LazyLock;

use p256::ecdsa::{Error, Signature, SigningKey};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::subtle::{ConditionallySelectable, ConstantTimeEq};
use p256::elliptic_curve::{Curve, FieldBytesEncoding, PrimeField};
use p256::{AffinePoint, NistP256, ProjectivePoint, Scalar, U256};
use sha2::Sha256;

/// A scalar's 4-bit digits.
const DIGITS: usize = 64;
/// The nonzero values of a digit.
const MULTIPLES: usize = 15;

/// Row `i` holds 1…15 times 16^i·G.
static GENERATOR_TABLE: LazyLock<Vec<[AffinePoint; MULTIPLES]>> = LazyLock::new(|| {
    let mut rows = Vec::with_capacity(DIGITS);
    let mut base = ProjectivePoint::GENERATOR;
    for _ in 0..DIGITS {
        let mut multiples = [base; MULTIPLES];
        for j in 1..MULTIPLES {
            multiples[j] = multiples[j - 1] + base;
        }
        base = multiples[MULTIPLES - 1] + base;
        rows.push(multiples.map(|multiple| multiple.to_affine()));
    }
    rows
});

/// k·G: one table entry per digit of k, each chosen by constant-time selection.
fn mul_by_generator(k: &Scalar) -> ProjectivePoint {
    let big_endian = k.to_bytes();
    let mut sum = ProjectivePoint::IDENTITY;
    for (i, row) in GENERATOR_TABLE.iter().enumerate() {
        let byte = big_endian[big_endian.len() - 1 - i / 2];
        let digit = if i % 2 == 0 { byte & 0x0f } else { byte >> 4 };
        let mut term = AffinePoint::IDENTITY;
        for (j, multiple) in (1u8..).zip(row) {
            term.conditional_assign(multiple, digit.ct_eq(&j));
        }
        sum += term;
    }
    sum
}

/// ECDSA over a digest the card is given (GENERAL AUTHENTICATE), as `sign_prehash` signs.
pub(super) fn sign_prehash(key: &SigningKey, digest: &[u8]) -> Result<Signature, Error> {
    let z = ecdsa::hazmat::bits2field::<NistP256>(digest)?;
    let d: &Scalar = key.as_nonzero_scalar();
    let order = NistP256::ORDER.encode_field_bytes();
    let k = rfc6979::generate_k::<Sha256, _>(&d.to_repr(), &order, &z, &[]);
    let k = Option::<Scalar>::from(Scalar::from_repr(k)).ok_or_else(Error::new)?;
    let k_inverse = Option::<Scalar>::from(k.invert()).ok_or_else(Error::new)?;
    let r = <Scalar as Reduce<U256>>::reduce_bytes(&mul_by_generator(&k).to_affine().x());
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&z);
    Signature::from_scalars(r, k_inverse * (z + r * d))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use proptest::prelude::*;

    #[test]
    fn the_table_multiplies_the_generator_at_the_edges_of_the_scalars() {
        let minus_one = -Scalar::ONE;
        for k in [
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::from(15u64),
            Scalar::from(16u64),
            minus_one,
        ] {
            assert_eq!(mul_by_generator(&k), ProjectivePoint::GENERATOR * k);
        }
    }

    proptest! {
        #[test]
        fn the_table_multiplies_the_generator_as_p256_does(bytes in any::<[u8; 32]>()) {
            let k = <Scalar as Reduce<U256>>::reduce_bytes(&bytes.into());
            prop_assert_eq!(mul_by_generator(&k), ProjectivePoint::GENERATOR * k);
        }

        #[test]
        fn auth_1_card_signatures_are_p256s_own_byte_for_byte(
            secret in any::<[u8; 32]>(),
            digest in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let Ok(key) = SigningKey::from_slice(&secret) else {
                return Ok(());
            };
            let ours = sign_prehash(&key, &digest).map(|s| s.to_bytes());
            let theirs: Result<Signature, Error> = key.sign_prehash(&digest);
            prop_assert_eq!(ours.ok(), theirs.ok().map(|s| s.to_bytes()));
        }
    }
}
