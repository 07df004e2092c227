#![allow(clippy::unwrap_used)]
use super::*;
use proptest::prelude::*;

const ORIGIN: &str = "https://smartcard.example.nhs.uk";
const GUID: [u8; 16] = [7; 16];
const NOW: i64 = 1_800_000_000;

fn apdus() -> Vec<Vec<u8>> {
    vec![vec![
        0x80, 0x50, 0x30, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00,
    ]]
}

fn request(apdus: &[Vec<u8>]) -> GrantRequest<'_> {
    GrantRequest {
        origin: ORIGIN,
        card_guid: GUID,
        attempt: "ab".repeat(16).leak(),
        operation: Operation::OpenChannel,
        apdus: Some(apdus),
        now: NOW,
        lifetime_secs: 120,
    }
}

fn expected(apdus: &[Vec<u8>]) -> Expected<'_> {
    Expected {
        origin: ORIGIN,
        operations: &[Operation::OpenChannel],
        apdus: Some(apdus),
        now: NOW + 10,
    }
}

fn pair() -> (GrantSigner, GrantVerifier) {
    let signer = GrantSigner::generate();
    let verifier = GrantVerifier::from_hex(&signer.public_key_hex()).unwrap();
    (signer, verifier)
}

#[test]
fn brg_5_a_grant_passes_once_for_its_origin_card_operation_and_commands() {
    let (signer, verifier) = pair();
    let apdus = apdus();
    let grant = signer.grant(&request(&apdus));
    let claims = verifier.check(Some(&grant), &expected(&apdus)).unwrap();
    claims.check_card(&GUID).unwrap();
    assert_eq!(claims.card().unwrap(), GUID);
    let mut cache = ReplayCache::new();
    cache.use_once(&claims, NOW + 10).unwrap();
    let again = verifier.check(Some(&grant), &expected(&apdus)).unwrap();
    assert_eq!(cache.use_once(&again, NOW + 11), Err(GrantError::Replayed));
}

#[test]
fn brg_5_each_wrong_grant_has_its_own_refusal() {
    let (signer, verifier) = pair();
    let apdus = apdus();
    let grant = signer.grant(&request(&apdus));
    let check = |grant: Option<&SignedGrant>, expected: Expected<'_>| {
        verifier.check(grant, &expected).map(|_| ())
    };
    assert_eq!(check(None, expected(&apdus)), Err(GrantError::Missing));
    let late = Expected {
        now: NOW + 120 + CLOCK_SKEW_SECS + 1,
        ..expected(&apdus)
    };
    assert_eq!(check(Some(&grant), late), Err(GrantError::Expired));
    let other_origin = Expected {
        origin: "https://smartcard.example.nhs.uk.evil.example",
        ..expected(&apdus)
    };
    assert_eq!(
        check(Some(&grant), other_origin),
        Err(GrantError::WrongOrigin)
    );
    let other_operation = Expected {
        operations: &[Operation::SealedScript, Operation::ChangePin],
        ..expected(&apdus)
    };
    assert_eq!(
        check(Some(&grant), other_operation),
        Err(GrantError::WrongOperation)
    );
    let mut changed = apdus.clone();
    changed[0][5] ^= 1;
    assert_eq!(
        check(Some(&grant), expected(&changed)),
        Err(GrantError::WrongScript)
    );
    let extra = [apdus.clone(), apdus.clone()].concat();
    assert_eq!(
        check(Some(&grant), expected(&extra)),
        Err(GrantError::WrongScript)
    );
    let claims = verifier.check(Some(&grant), &expected(&apdus)).unwrap();
    assert_eq!(claims.check_card(&[8; 16]), Err(GrantError::WrongCard));
}

#[test]
fn brg_5_forged_and_tampered_grants_are_invalid() {
    let (signer, verifier) = pair();
    let apdus = apdus();
    let grant = signer.grant(&request(&apdus));
    // Another key's grant.
    let stranger = GrantSigner::generate().grant(&request(&apdus));
    assert_eq!(
        verifier.check(Some(&stranger), &expected(&apdus)),
        Err(GrantError::Invalid)
    );
    // Claims edited after signing (a different card).
    let mut claims: Claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&grant.claims).unwrap()).unwrap();
    claims.card_guid = hex::encode([8u8; 16]);
    let edited = SignedGrant {
        claims: URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        signature: grant.signature.clone(),
    };
    assert_eq!(
        verifier.check(Some(&edited), &expected(&apdus)),
        Err(GrantError::Invalid)
    );
    // A lifetime longer than five minutes, even if signed.
    claims.card_guid = hex::encode(GUID);
    claims.expires_at = claims.issued_at + MAX_LIFETIME_SECS + 1;
    assert_eq!(
        verifier.check(Some(&signer.sign(&claims)), &expected(&apdus)),
        Err(GrantError::Invalid)
    );
    // Issued in the future.
    claims.issued_at = NOW + 600;
    claims.expires_at = NOW + 700;
    assert_eq!(
        verifier.check(Some(&signer.sign(&claims)), &expected(&apdus)),
        Err(GrantError::Invalid)
    );
}

#[test]
fn brg_5_the_server_caps_a_grant_at_five_minutes() {
    let (signer, verifier) = pair();
    let apdus = apdus();
    let long = GrantRequest {
        lifetime_secs: 3600,
        ..request(&apdus)
    };
    let claims = verifier
        .check(Some(&signer.grant(&long)), &expected(&apdus))
        .unwrap();
    assert_eq!(claims.expires_at - claims.issued_at, MAX_LIFETIME_SECS);
}

#[test]
fn brg_5_the_cache_forgets_only_what_has_expired() {
    let (signer, verifier) = pair();
    let apdus = apdus();
    let mut cache = ReplayCache::new();
    let first = verifier
        .check(Some(&signer.grant(&request(&apdus))), &expected(&apdus))
        .unwrap();
    cache.use_once(&first, NOW).unwrap();
    let later = GrantRequest {
        now: NOW + 1000,
        ..request(&apdus)
    };
    let second = verifier
        .check(
            Some(&signer.grant(&later)),
            &Expected {
                now: NOW + 1000,
                ..expected(&apdus)
            },
        )
        .unwrap();
    cache.use_once(&second, NOW + 1000).unwrap();
    assert_eq!(cache.len(), 1);
}

#[test]
fn all_7_the_signing_key_never_prints() {
    let signer = GrantSigner::generate();
    let secret = hex::encode(signer.to_bytes());
    assert!(!format!("{signer:?}").contains(&secret));
    let again = GrantSigner::from_bytes(&signer.to_bytes()).unwrap();
    assert_eq!(again.public_key_hex(), signer.public_key_hex());
}

proptest! {
    // ALL-2: any text where a grant goes is refused cleanly, never a panic.
    #[test]
    fn all_2_any_grant_text_is_refused_cleanly(claims in ".{0,200}", signature in ".{0,120}") {
        let (_, verifier) = pair();
        let apdus = apdus();
        let grant = SignedGrant { claims, signature };
        prop_assert_eq!(verifier.check(Some(&grant), &expected(&apdus)), Err(GrantError::Invalid));
    }
}
