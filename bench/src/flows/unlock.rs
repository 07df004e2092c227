//! The unlock as a locked-out user and the page do it (UNL-1…UNL-7): start with the card,
//! the card's 9E proof, the questions, the emailed code, then the sealed channel — the
//! card's answers, the sealed script relayed, the card update judged — and last the
//! bridge's local change from the one-time PIN to the user's new passcode.

use anyhow::Context;
use api_types::unlock::{
    Answer, Answers, AnswersRequest, CardProof, CardProofRequest, Channel, ChannelRequest, Code,
    CodeRequest, Complete, CompleteRequest, Question, Script, ScriptRequest, Start, StartRequest,
};
use api_types::values::{BoundedVec, CardSignature, ResponseHex, SecurityAnswer};
use api_types::{AttemptId, ErrorCode};
use card_protocol::client::PivClient;
use card_protocol::pin::Pin;
use card_protocol::piv::PinStatus;
use card_protocol::SignedFor;
use rand::Rng;
use virtual_card::SharedCard;

use super::{cookie_set, Failure, Page, Step, Timings};
use crate::unlock::{BenchUser, ANSWERS};

/// New channels for one attempt before it is counted as failed (CARD-3).
const CARD_ROUNDS: usize = 5;
/// Codes read from the mail for one attempt (a late one may be an earlier attempt's).
const CODES: usize = 3;

/// Locks the card as its user does: wrong passcodes until it blocks.
pub fn lock(card: &SharedCard) -> anyhow::Result<()> {
    let mut piv = PivClient::new(card.clone());
    piv.select().context("selecting PIV")?;
    let wrong = Pin::parse("00000000").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for _ in 0..5 {
        if piv.pin_status().context("reading the PIN's tries")? == PinStatus::Blocked {
            return Ok(());
        }
        let _ = piv.verify_pin(&wrong);
    }
    anyhow::bail!("the card did not block")
}

/// The whole unlock for `user`, whose card is locked; the card ends with `new_pin`.
pub async fn unlock(page: &Page, user: &BenchUser, timings: &mut Timings) -> Step<String> {
    let new_pin = format!(
        "{}",
        rand::thread_rng().gen_range(10_000_000..100_000_000u32)
    );
    let mut restarts = 0;
    loop {
        match attempt(page, user, &new_pin, timings).await {
            Ok(()) => return Ok(new_pin),
            Err(failure) if page.begin_again(&failure, &mut restarts, timings) => {}
            Err(other) => return Err(other),
        }
    }
}

async fn attempt(page: &Page, user: &BenchUser, new_pin: &str, t: &mut Timings) -> Step<()> {
    let start = StartRequest {
        card_guid: user.guid,
        route: Default::default(),
    };
    let (headers, started) = page.call::<Start>(t, &(), None, &start).await?;
    let cookie = cookie_set(&headers)?;
    let cookie = Some(cookie.as_str());
    let id = &started.attempt_id;
    let digest = SignedFor::CardProof.digest(&page.origin, started.challenge.as_bytes());
    let signature = with_card(&user.card, |piv| {
        piv.select()?;
        piv.sign_with_card_auth_key(&digest)
    })?;
    let proof = CardProofRequest {
        signature: CardSignature::from_bytes(signature).map_err(anyhow::Error::from)?,
    };
    let (_, proven) = page.call::<CardProof>(t, id, cookie, &proof).await?;
    let answers = right_answers(&proven.questions)?;
    match page.call::<Answers>(t, id, cookie, &answers).await {
        // Sent again after the first was taken: the code is on its way.
        Ok(_) | Err(Failure::Refused(ErrorCode::WrongStep)) => {}
        Err(other) => return Err(other),
    }
    enter_code(page, user, id, cookie, t).await?;
    let one_time_pin = update_card(page, user, id, cookie, t).await?;
    let new = pin(new_pin)?;
    with_card(&user.card, |piv| {
        piv.select()?;
        piv.change_pin(&one_time_pin, &new)
    })?;
    let done = CompleteRequest {
        script_responses: BoundedVec::new(Vec::new()).map_err(anyhow::Error::from)?,
        pin_changed: true,
    };
    match page.call::<Complete>(t, id, cookie, &done).await {
        Ok((_, completed)) if completed.unlocked => Ok(()),
        Ok(_) => Err(Failure::Broken("complete: not unlocked".into())),
        // The first was taken; its answer was lost.
        Err(Failure::Refused(ErrorCode::AttemptEnded | ErrorCode::AlreadyUnlocked))
            if page.failover() =>
        {
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// UNL-5: the emailed code; a late mail may hold an earlier attempt's code.
async fn enter_code(
    page: &Page,
    user: &BenchUser,
    id: &AttemptId,
    cookie: Option<&str>,
    t: &mut Timings,
) -> Step<()> {
    for _ in 0..CODES {
        let code = page
            .code_from_mail(t, &user.email, server::mail::templates::UNLOCK_CODE_SUBJECT)
            .await?;
        let request = CodeRequest { code: code.into() };
        match page.call::<Code>(t, id, cookie, &request).await {
            Ok(_) | Err(Failure::Refused(ErrorCode::WrongStep)) => return Ok(()),
            Err(Failure::Refused(ErrorCode::CodeInvalid)) if page.failover() => {}
            Err(other) => return Err(other),
        }
    }
    Err(Failure::Broken("no code of this attempt's came".into()))
}

/// CARD-3: channel → the card's answers → sealed script → relayed → judged; from a new
/// channel again when the server says the card is not updated yet. The one-time PIN the
/// card now has.
async fn update_card(
    page: &Page,
    user: &BenchUser,
    id: &AttemptId,
    cookie: Option<&str>,
    t: &mut Timings,
) -> Step<Pin> {
    let mut last = Failure::Broken("no card round".into());
    for _ in 0..CARD_ROUNDS {
        let (_, opening) = page
            .call::<Channel>(t, id, cookie, &ChannelRequest {})
            .await?;
        let answers = relay(&user.card, &opening.relay.apdus, true)?;
        let request = ScriptRequest {
            card_answers: BoundedVec::new(answers).map_err(anyhow::Error::from)?,
        };
        let sealed = match page.call::<Script>(t, id, cookie, &request).await {
            Ok((_, sealed)) => sealed,
            Err(failure @ Failure::Broken(_)) if page.failover() => {
                last = failure;
                continue;
            }
            Err(other) => return Err(other),
        };
        let responses = relay(&user.card, &sealed.relay.apdus, false)?;
        let request = CompleteRequest {
            script_responses: BoundedVec::new(responses).map_err(anyhow::Error::from)?,
            pin_changed: false,
        };
        match page.call::<Complete>(t, id, cookie, &request).await {
            Ok((_, updated)) if updated.card_updated => {
                return pin(sealed.one_time_pin.expose());
            }
            Ok(_) => return Err(Failure::Broken("complete: card not updated".into())),
            Err(failure @ Failure::Refused(ErrorCode::CardUpdateFailed)) => last = failure,
            Err(failure @ Failure::Broken(_)) if page.failover() => last = failure,
            Err(other) => return Err(other),
        }
    }
    Err(last)
}

/// What the bridge does with a signed relay: select PIV first for an opening, then send
/// each command and return each answer.
fn relay(
    card: &SharedCard,
    apdus: &api_types::bridge::RelayCommands,
    select_first: bool,
) -> Step<Vec<ResponseHex>> {
    let commands: Vec<Vec<u8>> = apdus
        .as_slice()
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let answers = with_card(card, |piv| {
        if select_first {
            piv.select()?;
        }
        piv.run_script(&commands)
    })?;
    answers
        .into_iter()
        .map(|answer| ResponseHex::from_bytes(answer).map_err(|e| anyhow::Error::from(e).into()))
        .collect()
}

fn with_card<T>(
    card: &SharedCard,
    work: impl FnOnce(&mut PivClient<SharedCard>) -> Result<T, card_protocol::PivError>,
) -> Step<T> {
    let mut piv = PivClient::new(card.clone());
    work(&mut piv).map_err(|e| Failure::Broken(format!("the card: {e:?}")))
}

fn pin(text: &str) -> Step<Pin> {
    Pin::parse(text).map_err(|e| Failure::Broken(format!("a PIN: {e:?}")))
}

/// The right answers as a user types them (case and spaces changed).
pub fn right_answers(questions: &[Question]) -> Step<AnswersRequest> {
    let answers = questions
        .iter()
        .map(|q| {
            let (_, answer) = ANSWERS
                .iter()
                .find(|(id, _)| *id == i64::from(q.id))
                .ok_or_else(|| Failure::Broken(format!("asked unregistered question {}", q.id)))?;
            Ok(Answer {
                question_id: q.id,
                answer: SecurityAnswer::parse(&format!(" {} ", answer.to_uppercase()))
                    .map_err(anyhow::Error::from)?,
            })
        })
        .collect::<Step<Vec<_>>>()?;
    Ok(AnswersRequest {
        answers: BoundedVec::new(answers).map_err(anyhow::Error::from)?,
    })
}
