//! PASS-5: the helpdesk check. A helpdesk agent, signed in with their own card, asks
//! whether a caller's Verification Passcode is the one they say: yes or no, nothing else
//! (an unknown caller, one without the passcode and a wrong one all answer no, in the
//! same time). Limited per agent and per caller account; every check audited under the
//! agent's name with its answer; wrong passcodes in a row lock the check until the
//! caller sets a new one.

use api_types::audit::AuditAction;
use api_types::helpdesk::{HelpdeskAnswer, HelpdeskCheckRequest};
use api_types::ra::{Role, UserUuid};

use crate::flow::limits::Scope;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::passcodes;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::HelpdeskCheck;
/// PASS-5: wrong passcodes in a row before the check locks.
pub const MAX_FAILURES: i64 = 5;
/// Checks an agent may make in an hour, and checks of one caller in an hour.
const PER_AGENT_PER_HOUR: i64 = 60;
const PER_CALLER_PER_HOUR: i64 = 10;
const HOUR: i64 = 60 * 60;

impl AppState {
    pub async fn helpdesk_check(
        &self,
        secret: Option<&FlowSecret>,
        request: HelpdeskCheckRequest,
        client: &Client,
    ) -> Result<HelpdeskAnswer, AppError> {
        let session = self.signed_in(ACTION, secret, client).await?;
        let agent = session.info.uuid.clone();
        let caller = request.uuid.clone();
        let subject = || Subject::user(&caller);
        if session.info.role == Role::Helpdesk {
            // The agent's budget apart from their session's own count (`Scope::User`).
            let agents = (Scope::Ra(&agent), (PER_AGENT_PER_HOUR, HOUR));
            self.count_within(ACTION, agents, subject(), client).await?;
            let callers = (Scope::User(&caller), (PER_CALLER_PER_HOUR, HOUR));
            self.count_within(ACTION, callers, subject(), client)
                .await?;
        }
        let (now, mut tx) = self.open().await?;
        let stored =
            passcodes::verification_for_update(&mut tx, self.store.backend, &caller).await?;
        let hasher = self.passcodes.clone();
        let said = request.verification_passcode.clone();
        let hash = stored.as_ref().map(|(hash, _)| hash.clone());
        let matches =
            crate::kdf::run(move || hasher.verify_or_dummy(said.expose(), hash.as_deref())).await?;
        let given = Given {
            agent: (agent, session.info.role),
            caller,
            failures: stored.map(|(_, failures)| failures),
            matches,
        };
        self.finish(tx, now, client, decide(given)).await
    }
}

struct Given {
    agent: (UserUuid, Role),
    caller: UserUuid,
    /// The caller's wrong checks in a row; none: no Verification Passcode (or no caller).
    failures: Option<i64>,
    matches: bool,
}

fn decide(given: Given) -> Outcome<HelpdeskAnswer> {
    let (agent, role) = given.agent;
    let outcome = Outcome::new(ACTION, Subject::user(&given.caller))
        .by(format!("helpdesk:{}", agent.as_str()));
    if role != Role::Helpdesk {
        return outcome.refuse(AppError::HelpdeskRoleRequired);
    }
    let no = HelpdeskAnswer { matches: false };
    let Some(failures) = given.failures else {
        return outcome.detail("no passcode set".into()).ok("no", no);
    };
    if failures >= MAX_FAILURES {
        return outcome.refuse(AppError::VerificationLocked);
    }
    let (answer, failures) = if given.matches {
        ("yes", 0)
    } else {
        ("no", failures + 1)
    };
    outcome
        .write(Write::VerificationChecked {
            user_uuid: given.caller,
            failures,
        })
        .ok(
            answer,
            HelpdeskAnswer {
                matches: given.matches,
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{john_uuid, uuid};

    fn check(role: Role, failures: Option<i64>, matches: bool) -> Outcome<HelpdeskAnswer> {
        decide(Given {
            agent: (uuid("555555555599"), role),
            caller: john_uuid(),
            failures,
            matches,
        })
    }

    #[test]
    fn pass_5_yes_or_no_only_and_wrong_ones_in_a_row_lock_the_check() {
        let yes = check(Role::Helpdesk, Some(2), true);
        assert!(matches!(yes.reply, Ok(HelpdeskAnswer { matches: true })));
        assert!(matches!(
            yes.writes(),
            [Write::VerificationChecked { failures: 0, .. }]
        ));
        let no = check(Role::Helpdesk, Some(2), false);
        assert!(matches!(no.reply, Ok(HelpdeskAnswer { matches: false })));
        assert!(matches!(
            no.writes(),
            [Write::VerificationChecked { failures: 3, .. }]
        ));
        // No passcode set: the same no, nothing written.
        let none = check(Role::Helpdesk, None, false);
        assert!(matches!(none.reply, Ok(HelpdeskAnswer { matches: false })));
        assert!(none.writes().is_empty());
        let locked = check(Role::Helpdesk, Some(MAX_FAILURES), true);
        assert!(matches!(locked.reply, Err(AppError::VerificationLocked)));
    }

    #[test]
    fn pass_5_only_a_helpdesk_agent_checks() {
        for role in [Role::Staff, Role::RaAgent, Role::RaManager] {
            let refused = check(role, Some(0), true);
            assert!(
                matches!(refused.reply, Err(AppError::HelpdeskRoleRequired)),
                "{role:?}"
            );
            assert!(refused.writes().is_empty());
        }
    }
}
