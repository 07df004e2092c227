//! PASS-5: the helpdesk check. A helpdesk agent, signed in with their own card, enters a
//! caller's UUID and the Verification Passcode they say on the phone, and learns yes or
//! no — nothing else about the account. Checks are limited per caller account and per
//! agent, and every one is audited; repeated wrong passcodes lock the check until the
//! caller sets a new one.

use serde::{Deserialize, Serialize};

use crate::endpoints;
use crate::passcodes::AccountPasscode;
use crate::ra::UserUuid;

endpoints! {
    /// PASS-5: whether the caller's Verification Passcode is the one said: yes or no.
    HelpdeskCheck = POST "/api/helpdesk/check", HelpdeskCheckRequest => HelpdeskAnswer,
        refuses [NotSignedIn, PasscodesLocked, HelpdeskRoleRequired, VerificationLocked,
            RateLimited];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HelpdeskCheckRequest {
    /// The caller's User's Unique Identifier, as they say it.
    pub uuid: UserUuid,
    /// What they say their Verification Passcode is (never printed).
    pub verification_passcode: AccountPasscode,
}

/// Yes or no only: an unknown caller, one without a Verification Passcode and a wrong
/// passcode all answer no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HelpdeskAnswer {
    pub matches: bool,
}
