//! BRG-5 at the bridge's door: every card-changing request carries a grant the server
//! signed; [`Grants::admit`] checks it against the server key pinned in the bridge's
//! configuration (signature, lifetime, operation, the request's Origin, the exact APDUs)
//! and marks it used before the card is touched, so a grant works once even if the card
//! job then fails — and refuses any grant issued before this bridge started, since the
//! memory of used grants does not survive a restart. Which card it names is checked later,
//! inside the card job, against the card actually in the reader
//! ([`bridge_grant::Claims::check_card`]), and which unlock it names against the unlock
//! whose secure channel that card has open (`routes::relay`).

use std::sync::{Arc, Mutex, PoisonError};

use bridge_grant::{Claims, Expected, GrantVerifier, Operation, ReplayCache, SignedGrant};

use crate::BridgeError;

/// Unix seconds, from the system clock unless a test injects another.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Self(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| {
                    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
                })
        }))
    }

    /// Any source of unix seconds (tests move time with it).
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock(now = {})", self.now())
    }
}

/// The pinned server key, the clock, the grants already used, and when this bridge
/// started: the used-grant memory lives only as long as the process, so a grant issued
/// before the start may already have been used by the bridge that ran before.
pub struct Grants {
    verifier: GrantVerifier,
    clock: Clock,
    used: Mutex<ReplayCache>,
    started_at: i64,
}

/// What a request asks to do, for [`Grants::admit`].
pub struct Asked<'a> {
    /// The request's `Origin` header (the security guard has allow-listed it).
    pub origin: &'a str,
    /// The operations the endpoint performs.
    pub operations: &'a [Operation],
    /// The APDUs a relay would send, as bytes.
    pub apdus: Option<&'a [Vec<u8>]>,
}

impl Grants {
    pub fn new(verifier: GrantVerifier, clock: Clock) -> Self {
        let started_at = clock.now();
        Self {
            verifier,
            clock,
            used: Mutex::new(ReplayCache::new()),
            started_at,
        }
    }

    /// Checks `grant` for this request and uses it up. Refusals are
    /// [`BridgeError::Grant`], each with its own code.
    pub fn admit(
        &self,
        grant: Option<&SignedGrant>,
        asked: &Asked<'_>,
    ) -> Result<Claims, BridgeError> {
        let now = self.clock.now();
        let claims = self.verifier.check(
            grant,
            &Expected {
                origin: asked.origin,
                operations: asked.operations,
                apdus: asked.apdus,
                now,
            },
        )?;
        // BRG-5: a restart forgets which grants were used, so none from before it counts
        // (the page just asks the server for a fresh one).
        if claims.issued_at < self.started_at {
            return Err(bridge_grant::GrantError::Expired.into());
        }
        // A poisoned lock still holds a valid cache: every update is one insert.
        self.used
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .use_once(&claims, now)?;
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bridge_grant::{GrantRequest, GrantSigner};

    const ORIGIN: &str = "https://selfservice.example.nhs.uk";

    fn grant(signer: &GrantSigner, now: i64) -> SignedGrant {
        signer.grant(&GrantRequest {
            origin: ORIGIN,
            card_guid: [7; 16],
            attempt: "attempt-1",
            operation: Operation::ChangePin,
            apdus: None,
            now,
            lifetime_secs: 120,
        })
    }

    #[test]
    fn brg_5_a_grant_from_before_a_restart_is_refused_and_one_from_after_works_once() {
        let signer = GrantSigner::generate();
        let verifier = GrantVerifier::from_hex(&signer.public_key_hex()).unwrap();
        // Used by the bridge that ran before, which then restarted at 1000.
        let before = grant(&signer, 990);
        let grants = Grants::new(verifier, Clock::from_fn(|| 1000));
        let asked = Asked {
            origin: ORIGIN,
            operations: &[Operation::ChangePin],
            apdus: None,
        };
        let refused = grants.admit(Some(&before), &asked).unwrap_err();
        assert!(matches!(
            refused,
            BridgeError::Grant(bridge_grant::GrantError::Expired)
        ));
        let after = grant(&signer, 1000);
        assert!(grants.admit(Some(&after), &asked).is_ok());
        assert!(matches!(
            grants.admit(Some(&after), &asked).unwrap_err(),
            BridgeError::Grant(bridge_grant::GrantError::Replayed)
        ));
    }
}
