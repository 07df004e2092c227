//! SCSC-2 / POL-3: the one-time code, sent the way the holder chose — to the approved
//! email address or, through GOV.UK Notify, to the mobile on their profile (SMS-1). On
//! the SCSC route it is the 12-character One Time Passcode for ten minutes; on the NHS's
//! 2023 route, a 6-digit code that lasts until 15 minutes from the unlock's start. One
//! code per attempt: a lost one means starting again (and, for the SCSC, giving the
//! Account Recovery details again). The message carries the "this wasn't me" link.

use api_types::audit::AuditAction;
use api_types::contact::UkMobile;
use api_types::recovery::{
    CodeSent, Delivery, DeliveryOption, OneTimePasscode, SendCodeRequest, UnlockRoute,
};
use api_types::{AttemptId, UnlockCode};

use super::rules::{check_step, AttemptState};
use super::{refuse_closed, Client, Guard, Outcome, Subject, Write};
use crate::flow::codes::{CodeKind, CodeText, FreshCode};
use crate::flow::lockout::recovery_open;
use crate::flow::notice::NotMeDraw;
use crate::mail::templates::Sender;
use crate::mail::{recovery, texts};
use crate::secrets::{CodePepper, FlowSecret};
use crate::store::attempts::{Attempt, StoredCode};
use crate::store::users::User;
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::UnlockSendCode;

impl AppState {
    pub async fn send_code(
        &self,
        id: &AttemptId,
        flow: Option<&FlowSecret>,
        request: SendCodeRequest,
        client: &Client,
    ) -> Result<CodeSent, AppError> {
        let (now, mut tx, attempt) = self.attempt_step(ACTION, id, flow, Guard::Refusals).await?;
        let outcome = match attempt {
            Ok(attempt) => {
                let user = self.lock_user(&mut tx, &attempt).await?;
                let given = Given {
                    user: &user,
                    options: self.delivery_options_of(&user),
                    fresh: (FreshCode::draw_passcode(), FreshCode::draw()),
                    pepper: &self.code_pepper,
                    sender: &self.sender(),
                    not_me: self.not_me_draw(),
                };
                decide(attempt, request.delivery, given, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// What the step read, and what it needs to send a code.
struct Given<'a> {
    user: &'a User,
    options: Vec<DeliveryOption>,
    /// The SCSC's One Time Passcode and the NHS route's code: one of them is used.
    fresh: (FreshCode<OneTimePasscode>, FreshCode<UnlockCode>),
    pepper: &'a CodePepper,
    sender: &'a Sender<'a>,
    not_me: NotMeDraw<'a>,
}

fn decide(attempt: Attempt, delivery: Delivery, given: Given<'_>, now: i64) -> Outcome<CodeSent> {
    let Given {
        user,
        options,
        fresh,
        pepper,
        sender,
        not_me,
    } = given;
    let outcome = Outcome::new(ACTION, Subject::attempt(&attempt)).detail(delivery.as_str().into());
    let scsc = attempt.route == UnlockRoute::Scsc;
    // Closed meanwhile (SCSC-4, UNL-5's day of wrong codes, RA-6): nothing is sent.
    if scsc && !recovery_open(user.counters) {
        return refuse_closed(outcome, &attempt, AttemptState::Identified)
            .refuse(AppError::RecoveryClosed);
    }
    if !scsc && user.counters.self_service_closed {
        return refuse_closed(outcome, &attempt, AttemptState::Identified);
    }
    if let Err(error) = check_step(
        attempt.state,
        AttemptState::Identified,
        attempt.expires_at,
        now,
    ) {
        return outcome.refuse(error);
    }
    let Some(option) = options.into_iter().find(|o| o.delivery == delivery) else {
        return outcome.refuse(AppError::DeliveryNotOffered);
    };
    let (stored, code): (StoredCode, &str) = if scsc {
        let (passcode, _) = &fresh;
        (
            passcode.stored(CodeKind::Recovery, pepper, now),
            passcode.code.text(),
        )
    } else {
        // POL-3: 15 minutes from the start, however long the holder took to choose.
        let (_, digits) = &fresh;
        let ends = attempt.created_at + CodeKind::Unlock.policy().ttl;
        if now >= ends {
            return outcome.refuse(AppError::AttemptExpired);
        }
        (digits.stored_until(pepper, ends), digits.code.text())
    };
    let code_expires_at = stored.expires_at;
    let (link, url) = not_me.link(&user.uuid, "one_time_passcode", now);
    let message = match delivery {
        Delivery::Email => {
            let minutes = (code_expires_at - now + 59) / 60;
            let to = (user.email.as_str(), user.display_name.as_str());
            let code = (code, minutes, code_expires_at);
            Write::Mail(recovery::one_time_passcode(sender, to, code, &url))
        }
        Delivery::Sms => {
            let mobile = user.mobile.as_deref().map(UkMobile::parse);
            let Some(Ok(mobile)) = mobile else {
                return outcome.refuse(AppError::DeliveryNotOffered);
            };
            let times = (now, code_expires_at);
            Write::Text(texts::one_time_passcode(&mobile, code, times, &url))
        }
    };
    let code_sent = Attempt {
        state: AttemptState::CodeSent,
        code: Some(stored),
        code_failures: 0,
        delivery: Some(delivery),
        ..attempt
    };
    outcome
        .write(Write::Attempt(code_sent))
        .write(link)
        .write(message)
        .ok(
            "code_sent",
            CodeSent {
                delivery,
                hint: option.hint,
                code_expires_at,
            },
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{self, john, pepper, written_attempt};

    fn identified(route: UnlockRoute) -> Attempt {
        Attempt {
            route,
            ..fixtures::attempt(AttemptState::Identified)
        }
    }

    fn both() -> Vec<DeliveryOption> {
        [
            (Delivery::Email, "j***@nhs.net"),
            (Delivery::Sms, "07*** ***123"),
        ]
        .map(|(delivery, hint)| DeliveryOption {
            delivery,
            hint: hint.into(),
        })
        .to_vec()
    }

    fn send(attempt: Attempt, delivery: Delivery, user: &User, now: i64) -> Outcome<CodeSent> {
        let pepper = pepper();
        let sender = Sender {
            organisation: "SCSC",
            ra_help: "Call the RA.",
        };
        let given = Given {
            user,
            options: both(),
            fresh: (
                FreshCode {
                    code: OneTimePasscode::parse("ABCDEFGH2345").unwrap(),
                    salt: [1; 16],
                },
                FreshCode {
                    code: UnlockCode::parse("024680").unwrap(),
                    salt: [2; 16],
                },
            ),
            pepper: &pepper,
            sender: &sender,
            not_me: NotMeDraw::for_tests(),
        };
        decide(attempt, delivery, given, now)
    }

    fn mobile_john() -> User {
        User {
            mobile: Some("+447700900123".into()),
            ..john()
        }
    }

    #[test]
    fn scsc_2_the_one_time_passcode_goes_by_text_for_ten_minutes_with_a_not_me_link() {
        let outcome = send(
            identified(UnlockRoute::Scsc),
            Delivery::Sms,
            &mobile_john(),
            1100,
        );
        let sent = outcome.reply.as_ref().unwrap();
        assert_eq!(
            (sent.code_expires_at, sent.hint.as_str()),
            (1700, "07*** ***123")
        );
        let attempt = written_attempt(&outcome);
        assert_eq!(attempt.state, AttemptState::CodeSent);
        assert_eq!(attempt.delivery, Some(Delivery::Sms));
        let text = outcome.writes().iter().find_map(|w| match w {
            Write::Text(text) => Some(text),
            _ => None,
        });
        let text = text.unwrap();
        assert_eq!(text.personalisation["code"], "ABCDEFGH2345");
        assert_eq!(text.personalisation["minutes"], "10");
        assert!(text.personalisation["not_me_url"].contains("/not-me#"));
        assert!(outcome
            .writes()
            .iter()
            .any(|w| matches!(w, Write::NotMeLink(_))));
    }

    #[test]
    fn pol_3_the_code_lasts_until_fifteen_minutes_from_the_start_and_goes_by_email() {
        // Started at 1000; chosen five minutes in: ten minutes left.
        let outcome = send(
            identified(UnlockRoute::Nhs2023),
            Delivery::Email,
            &john(),
            1300,
        );
        assert_eq!(outcome.reply.as_ref().unwrap().code_expires_at, 1000 + 900);
        let mail = outcome.writes().iter().find_map(|w| match w {
            Write::Mail(mail) => Some(mail),
            _ => None,
        });
        let mail = mail.unwrap();
        assert!(mail.text.contains("024680") && mail.text.contains("within 10 minutes"));
        let late = send(
            identified(UnlockRoute::Nhs2023),
            Delivery::Email,
            &john(),
            1900,
        );
        assert!(matches!(late.reply, Err(AppError::AttemptExpired)));
        assert!(late.writes().is_empty());
    }

    #[test]
    fn scsc_2_a_way_not_offered_a_second_code_or_a_closed_account_sends_nothing() {
        let mut offered_email_only = john();
        offered_email_only.mobile = None;
        let no_mobile = send(
            identified(UnlockRoute::Scsc),
            Delivery::Sms,
            &offered_email_only,
            1100,
        );
        assert!(matches!(no_mobile.reply, Err(AppError::DeliveryNotOffered)));
        let again = Attempt {
            state: AttemptState::CodeSent,
            ..identified(UnlockRoute::Scsc)
        };
        let second = send(again, Delivery::Email, &john(), 1100);
        assert!(matches!(second.reply, Err(AppError::WrongStep)));
        let mut closed = john();
        closed.counters.self_service_closed = true;
        let refused = send(
            identified(UnlockRoute::Nhs2023),
            Delivery::Email,
            &closed,
            1100,
        );
        assert!(matches!(refused.reply, Err(AppError::SelfServiceClosed)));
        assert_eq!(written_attempt(&refused).state, AttemptState::Failed);
        for outcome in [no_mobile, second] {
            assert!(!outcome
                .writes()
                .iter()
                .any(|w| matches!(w, Write::Mail(_) | Write::Text(_))));
        }
    }
}
