//! Single use (BRG-5): every grant's nonce is remembered until it expires.

use std::collections::HashMap;

use crate::{Claims, GrantError, CLOCK_SKEW_SECS};

/// Nonces of used grants, each kept until its grant could no longer pass the expiry check.
#[derive(Debug, Default)]
pub struct ReplayCache {
    used: HashMap<String, i64>,
}

impl ReplayCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the grant used; refuses it if it was used before.
    pub fn use_once(&mut self, claims: &Claims, now: i64) -> Result<(), GrantError> {
        self.used.retain(|_, forget_after| *forget_after >= now);
        if self.used.contains_key(&claims.nonce) {
            return Err(GrantError::Replayed);
        }
        self.used.insert(
            claims.nonce.clone(),
            claims.expires_at.saturating_add(CLOCK_SKEW_SECS),
        );
        Ok(())
    }

    /// How many grants are remembered (for tests and status).
    pub fn len(&self) -> usize {
        self.used.len()
    }

    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}
