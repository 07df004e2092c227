//! What must hold after `chaos` killed instances mid-flow (OPS-6, ALL-2, JOB-1): the audit
//! chain verifies; every outbox message was delivered exactly once (the sink counts
//! `Message-ID`s, which are outbox ids); no attempt or registration is half-written —
//! each state agrees with the mail the same transaction queued; and every card agrees
//! with the server: the PUK the server holds is the card's, none is pending, and the
//! card takes the passcode its last unlock set.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{anyhow, Result};
use server::mail::templates::{
    REGISTERED_SUBJECT, REGISTRATION_CODE_SUBJECT, UNLOCKED_SUBJECT, UNLOCK_CODE_SUBJECT,
};
use server::secrets::SealPurpose;
use server::store::audit::{self, Verified};
use server::store::{cards, outbox};
use server::AppState;

use crate::crowd::Client;
use crate::mail_sink::MailSink;

/// What the checks found.
#[derive(Default)]
pub struct Findings {
    /// Each a broken promise; none when all holds.
    pub problems: Vec<String>,
    /// Messages delivered a second time, with the same `Message-ID`, once the lease of
    /// an instance killed mid-send ran out: the relay had taken the message, the
    /// instance died before recording it. At-least-once is all SMTP allows across a
    /// SIGKILL; the `Message-ID` lets a relay drop the copy. At most one per kill.
    pub resent_after_kill: Vec<String>,
}

/// The mail worker's lease: a message claimed by an instance that died is sent again no
/// sooner.
const CLAIM_LEASE: Duration = Duration::from_secs(server::mail::CLAIM_LEASE.unsigned_abs());

pub async fn check(state: &AppState, sink: &MailSink, clients: &[Client]) -> Result<Findings> {
    let mut findings = Findings::default();
    let problems = &mut findings.problems;
    let pool = &state.store.pool;
    match audit::verify(pool, &state.audit_key).await? {
        Verified::Intact { .. } => {}
        broken => problems.push(format!("audit verify: {broken:?}")),
    }
    let fates = outbox::fates(pool).await?;
    let (lost_or_twice, resent) = delivered_once(&fates, sink)?;
    problems.extend(lost_or_twice);
    findings.resent_after_kill = resent;
    problems.extend(states_agree_with_mail(state).await?);
    for client in clients {
        for card in &client.unlocks {
            problems.extend(card_agrees(state, &card.user, card.pin.as_deref()).await?);
        }
    }
    Ok(findings)
}

/// The problems, and the messages sent again after a kill.
fn delivered_once(fates: &[outbox::Fate], sink: &MailSink) -> Result<(Vec<String>, Vec<String>)> {
    let mut problems = Vec::new();
    let mut resent = Vec::new();
    let mut deliveries: BTreeMap<String, Vec<std::time::Instant>> = BTreeMap::new();
    for mail in sink.all()? {
        let id = mail.message_id.as_deref().and_then(|m| m.split('@').next());
        deliveries
            .entry(id.unwrap_or_default().to_owned())
            .or_default()
            .push(mail.at);
    }
    for fate in fates.iter().filter(|f| f.channel == "email") {
        let arrivals = deliveries.remove(&fate.id).unwrap_or_default();
        let times = arrivals.len();
        match (fate.sent_at, fate.dropped_at, times) {
            (Some(_), None, 1) => {}
            (None, None, _) => problems.push(format!(
                "\"{}\" to {} never sent",
                fate.subject, fate.recipient
            )),
            (_, Some(_), _) => problems.push(format!(
                "\"{}\" to {} dropped",
                fate.subject, fate.recipient
            )),
            (Some(_), None, n) => {
                let apart = match arrivals.as_slice() {
                    [first, second] => second.duration_since(*first),
                    _ => Duration::ZERO,
                };
                let said = format!(
                    "\"{}\" to {} delivered {n} times, {:.1} s apart",
                    fate.subject,
                    fate.recipient,
                    apart.as_secs_f64()
                );
                // Two, the second a lease later: the window a kill can fall in. Closer
                // together, or more, would be two instances sending one message.
                if n == 2 && apart + Duration::from_secs(1) >= CLAIM_LEASE {
                    resent.push(said);
                } else {
                    problems.push(said);
                }
            }
        }
    }
    for (id, arrivals) in deliveries {
        let times = arrivals.len();
        problems.push(format!(
            "{times} mails with Message-ID {id:?} that no outbox row sent"
        ));
    }
    Ok((problems, resent))
}

#[derive(sqlx::FromRow)]
struct PerEmail {
    email: String,
    n: i64,
}

/// Per user's address: how many attempts and registrations reached each state, against
/// how many of the mails their steps queue in the same transaction.
async fn states_agree_with_mail(state: &AppState) -> Result<Vec<String>> {
    let pool = &state.store.pool;
    let count = |sql: &'static str| async move {
        let rows: Vec<PerEmail> = sqlx::query_as(sql).fetch_all(pool).await?;
        Ok::<_, anyhow::Error>(
            rows.into_iter()
                .map(|r| (r.email, r.n))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let mails = |subject: &'static str| async move {
        let rows: Vec<PerEmail> = sqlx::query_as(
            "SELECT recipient AS email, COUNT(*) AS n FROM outbox WHERE subject = $1 \
             GROUP BY recipient",
        )
        .bind(subject)
        .fetch_all(pool)
        .await?;
        Ok::<_, anyhow::Error>(
            rows.into_iter()
                .map(|r| (r.email, r.n))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let pairs = [
        (
            "unlock attempts given a code",
            count(
                // A code is wiped once used (ALL-7): the states after it is sent.
                "SELECT u.email AS email, COUNT(*) AS n FROM unlock_attempts a \
                 JOIN users u ON u.uuid = a.user_uuid \
                 WHERE a.state IN ('code_sent', 'code_verified', 'completed') \
                 GROUP BY u.email",
            )
            .await?,
            mails(UNLOCK_CODE_SUBJECT).await?,
        ),
        (
            "unlock attempts completed",
            count(
                "SELECT u.email AS email, COUNT(*) AS n FROM unlock_attempts a \
                 JOIN users u ON u.uuid = a.user_uuid WHERE a.state = 'completed' \
                 AND a.completed_at IS NOT NULL AND a.card_updated = 1 GROUP BY u.email",
            )
            .await?,
            mails(UNLOCKED_SUBJECT).await?,
        ),
        (
            "registrations given a code",
            count(
                "SELECT email, COUNT(*) AS n FROM registrations \
                 WHERE state IN ('code_sent', 'completed') GROUP BY email",
            )
            .await?,
            mails(REGISTRATION_CODE_SUBJECT).await?,
        ),
        (
            "registrations completed",
            count(
                "SELECT email, COUNT(*) AS n FROM registrations \
                 WHERE state = 'completed' AND completed_at IS NOT NULL GROUP BY email",
            )
            .await?,
            mails(REGISTERED_SUBJECT).await?,
        ),
    ];
    let mut problems = Vec::new();
    for (what, states, mails) in pairs {
        if states != mails {
            let differ = states
                .keys()
                .chain(mails.keys())
                .find(|email| states.get(*email) != mails.get(*email))
                .cloned()
                .unwrap_or_default();
            problems.push(format!(
                "{what} disagree with their mails: for {differ}, {:?} in state, {:?} mailed",
                states.get(&differ),
                mails.get(&differ)
            ));
        }
    }
    Ok(problems)
}

/// The server's PUK for the card is the card's, none pending; the card takes `pin`.
async fn card_agrees(
    state: &AppState,
    user: &crate::unlock::BenchUser,
    pin: Option<&str>,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let mut conn = state.store.pool.acquire().await?;
    let row = cards::find(&mut conn, &user.guid)
        .await?
        .ok_or_else(|| anyhow!("card {} is not in the store", user.guid.to_hex()))?;
    let server_puk = state
        .kek
        .open(&row.puk_enc, &user.guid, SealPurpose::Puk)
        .map_err(|e| anyhow!("opening card {}'s PUK: {e:?}", user.guid.to_hex()))?;
    let card_puk = user.card.with_card(|c| c.state().puk.clone());
    let card_puk = hex::decode(&card_puk).unwrap_or_else(|_| card_puk.into_bytes());
    if server_puk.to_vec() != card_puk {
        problems.push(format!("card {}: the server holds another PUK", user.email));
    }
    if row.puk_next_enc.is_some() {
        problems.push(format!("card {}: a PUK still pending", user.email));
    }
    if let Some(pin) = pin {
        let verified = card_protocol::pin::Pin::parse(pin)
            .map_err(|e| anyhow!("{e:?}"))
            .and_then(|pin| {
                let mut piv = card_protocol::PivClient::new(user.card.clone());
                piv.select()?;
                piv.verify_pin(&pin)?;
                Ok(())
            });
        if let Err(error) = verified {
            problems.push(format!(
                "card {}: its new passcode fails: {error:#}",
                user.email
            ));
        }
    }
    Ok(problems)
}
