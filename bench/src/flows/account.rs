//! Card sign-in (AUTH-1) and registration (REG-1…REG-4) as the page does them: the card
//! verifies its passcode and signs the login challenge with its 9A key; registration
//! proves the card again, answers four questions, and confirms the emailed code.

use api_types::auth::{LoginFinish, LoginFinishRequest, LoginId, LoginStart, LoginStartRequest};
use api_types::register::{
    RegisterBegin, RegisterBeginRequest, RegisterConfirm, RegisterConfirmRequest, RegisterDetails,
    RegisterDetailsRequest,
};
use api_types::unlock::Answer;
use api_types::values::{BoundedVec, CardSignature, SecurityAnswer};
use api_types::ErrorCode;
use card_protocol::client::PivClient;
use card_protocol::pin::Pin;
use card_protocol::SignedFor;

use super::{cookie_set, Failure, Page, Step, Timings};
use crate::unlock::{BenchUser, ANSWERS, PIN};

/// AUTH-1: signed in; the session cookie.
pub async fn sign_in(page: &Page, user: &BenchUser, t: &mut Timings) -> Step<String> {
    let mut restarts = 0;
    loop {
        let signed_in = async {
            let (login_id, signature) = card_signs_in(page, user, t).await?;
            let finish = LoginFinishRequest {
                login_id,
                signature,
            };
            let (headers, _) = page.call::<LoginFinish>(t, &(), None, &finish).await?;
            cookie_set(&headers)
        }
        .await;
        match signed_in {
            Err(failure) if page.begin_again(&failure, &mut restarts, t) => {}
            other => return other,
        }
    }
}

/// REG-1…REG-4 for a signed-in user whose card works: registered with the bench's answers
/// at the address on record.
pub async fn register(page: &Page, user: &BenchUser, t: &mut Timings) -> Step<()> {
    let session = sign_in(page, user, t).await?;
    let session = Some(session.as_str());
    let mut restarts = 0;
    let begun = loop {
        let begun = async {
            let (login_id, signature) = card_signs_in(page, user, t).await?;
            let begin = RegisterBeginRequest {
                login_id,
                signature,
            };
            Ok(page.call::<RegisterBegin>(t, &(), session, &begin).await?.1)
        }
        .await;
        match begun {
            Err(failure) if page.begin_again(&failure, &mut restarts, t) => {}
            other => break other?,
        }
    };
    let id = &begun.registration_id;
    let details = RegisterDetailsRequest {
        answers: BoundedVec::new(
            ANSWERS
                .iter()
                .map(|(question, text)| {
                    Ok(Answer {
                        question_id: u32::try_from(*question).map_err(anyhow::Error::from)?,
                        answer: SecurityAnswer::parse(text).map_err(anyhow::Error::from)?,
                    })
                })
                .collect::<Step<Vec<_>>>()?,
        )
        .map_err(anyhow::Error::from)?,
        email: begun.email.clone(),
    };
    match page.call::<RegisterDetails>(t, id, session, &details).await {
        // Sent again after the first was taken: the code is on its way.
        Ok(_) | Err(Failure::Refused(ErrorCode::WrongStep)) => {}
        Err(other) => return Err(other),
    }
    let subject = server::mail::templates::REGISTRATION_CODE_SUBJECT;
    let code = page.code_from_mail(t, &begun.email, subject).await?;
    match page
        .call::<RegisterConfirm>(t, id, session, &RegisterConfirmRequest { code })
        .await
    {
        Ok((_, confirmed)) if confirmed.registered => Ok(()),
        Ok(_) => Err(Failure::Broken("confirm: not registered".into())),
        Err(Failure::Refused(ErrorCode::WrongStep | ErrorCode::CodeAlreadyUsed))
            if page.failover() =>
        {
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// `login/start`, then the card: its passcode verified, the challenge signed with 9A for
/// this origin.
async fn card_signs_in(
    page: &Page,
    user: &BenchUser,
    t: &mut Timings,
) -> Step<(LoginId, CardSignature)> {
    let start = LoginStartRequest {
        card_guid: user.guid,
    };
    let (_, started) = page.call::<LoginStart>(t, &(), None, &start).await?;
    let digest = SignedFor::Login.digest(&page.origin, started.challenge.as_bytes());
    let pin = Pin::parse(PIN).map_err(|e| Failure::Broken(format!("{e:?}")))?;
    let mut piv = PivClient::new(user.card.clone());
    let signature = piv
        .select()
        .and_then(|()| piv.verify_pin(&pin))
        .and_then(|()| piv.sign_with_piv_auth_key(&digest))
        .map_err(|e| Failure::Broken(format!("the card: {e:?}")))?;
    let signature = CardSignature::from_bytes(signature).map_err(anyhow::Error::from)?;
    Ok((started.login_id, signature))
}
