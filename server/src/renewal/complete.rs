//! CERT-3 / CERT-4 / CERT-5: the card reports. Only its own answers, MACed for this
//! renewal's channel, can say it holds the new certificates; then, in one transaction,
//! they become the card's, the ones they replace are revoked, the renewals in a row are
//! counted, and the session ends — the user signs in again with the new certificate.
//! Answers that say anything else use the channel up and change nothing: the old
//! certificates stay in force, and the page opens a new channel for the same renewal.

use api_types::audit::AuditAction;
use api_types::renewal::{CardAnswers, RenewalDone};
use api_types::values::RenewalId;
use card_protocol::renew;
use card_protocol::KeySlot;

use super::rules::check_open;
use super::{abandoned, Channel, Driver};
use crate::ca::Issued;
use crate::card_channel::parse_answers;
use crate::flow::notice::NotMeDraw;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::mail::renewal as renewal_mail;
use crate::mail::templates::Sender;
use crate::secrets::FlowSecret;
use crate::store::certificates::SUPERSEDED;
use crate::store::corrupt;
use crate::store::renewals::{self, Renewal, RenewalChannel, RenewalState};
use crate::store::users::{self, User};
use crate::{AppError, AppState};

const ACTION: AuditAction = AuditAction::Renew;

impl AppState {
    pub async fn renewal_complete(
        &self,
        id: &RenewalId,
        secret: Option<&FlowSecret>,
        request: CardAnswers,
        client: &Client,
    ) -> Result<RenewalDone, AppError> {
        let recovery = request.recovery.as_ref();
        let (now, mut tx, driver, found) = self
            .renewal_step(ACTION, id, secret, recovery, client)
            .await?;
        let outcome = match found {
            Ok((renewal, card)) => {
                let judged = renewal
                    .channel
                    .as_ref()
                    .filter(|channel| !channel.issued.is_empty())
                    .map(|channel| -> Result<(), AppError> {
                        let mut answers: Vec<Vec<u8>> =
                            channel.key_answers.iter().map(|a| a.0.clone()).collect();
                        answers.extend(
                            request
                                .card_answers
                                .as_slice()
                                .iter()
                                .map(|a| a.as_bytes().to_vec()),
                        );
                        let answers = parse_answers(answers.iter().map(Vec::as_slice))?;
                        let kept = Channel::parse(channel)?;
                        renew::all_written(kept.kept(self, &card, channel)?, &answers)
                            .map_err(|_| AppError::CardUpdateFailed)
                    });
                let in_a_row = renewals::login_certificate(&mut tx, &renewal.card_guid)
                    .await?
                    .renewals_in_a_row;
                let holder = users::find(&mut tx, &renewal.user_uuid)
                    .await?
                    .ok_or_else(|| corrupt("renewals", "user_uuid"))?;
                let notice = Notice {
                    sender: self.sender(),
                    not_me: self.not_me_draw(),
                    holder,
                };
                decide(
                    Given {
                        renewal,
                        judged,
                        in_a_row,
                        session_hash: match driver {
                            Driver::Session(session) => Some(session.secret_hash),
                            Driver::Recovery => None,
                        },
                    },
                    notice,
                    now,
                )
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// Whom the renewal is told to (CERT-3 is a security event: a renewal nobody asked for
/// is reported from the mail itself).
struct Notice<'a> {
    sender: Sender<'a>,
    not_me: NotMeDraw<'a>,
    holder: User,
}

/// What the step read and judged.
struct Given {
    renewal: Renewal,
    /// The card's answers judged; none when nothing was sent to be written.
    judged: Option<Result<(), AppError>>,
    in_a_row: i64,
    /// The session driving it (none: a kept sign-in finishing it, CERT-3).
    session_hash: Option<Vec<u8>>,
}

fn decide(given: Given, notice: Notice<'_>, now: i64) -> Outcome<RenewalDone> {
    let Given {
        renewal,
        judged,
        in_a_row,
        session_hash,
    } = given;
    let outcome = Outcome::new(
        ACTION,
        Subject::card_of(renewal.card_guid, &renewal.user_uuid),
    );
    // RA-3 / CERT-4: done at the desk, it is the RA's act and starts the count again; the
    // RA's own session goes on.
    let (outcome, count, ends_session) = match &renewal.by_ra {
        Some(ra) => (outcome.by(format!("ra:{}", ra.as_str())), 0, None),
        None => (outcome, in_a_row + 1, session_hash),
    };
    if let Err(refused) = check_open(&renewal, now) {
        return outcome.refuse(refused);
    }
    let (Some(judged), Some(channel)) = (judged, renewal.channel.clone()) else {
        return outcome
            .detail("no certificates were sent to be written".into())
            .refuse(AppError::WrongStep);
    };
    if let Err(failed) = judged {
        // The card may hold the new certificates or not: the next channel makes its keys
        // again, and until then the old ones stay in force.
        return outcome
            .write_all(abandoned(&renewal))
            .write(Write::Renewal(Renewal {
                channel: None,
                ..renewal
            }))
            .refuse(failed);
    }
    match renewed(&renewal, &channel) {
        Ok((writes, not_after, serials)) => {
            let mut outcome = outcome.detail(serials);
            for write in writes {
                outcome = outcome.write(write);
            }
            outcome = outcome
                .write(Write::RenewalsInARow {
                    card: renewal.card_guid,
                    count,
                })
                .write(Write::Renewal(Renewal {
                    state: RenewalState::Done,
                    channel: None,
                    finished_at: Some(now),
                    recovery: None,
                    ..renewal
                }));
            if let Some(session_hash) = ends_session {
                outcome = outcome.write(Write::EndSession(session_hash));
            }
            let holder = &notice.holder;
            let (link, url) = notice.not_me.link(&holder.uuid, "renewal", now);
            let to = (holder.email.as_str(), holder.display_name.as_str());
            outcome
                .write(link)
                .write(Write::Mail(renewal_mail::renewed(
                    &notice.sender,
                    to,
                    not_after,
                    &url,
                )))
                .ok("renewed", RenewalDone { not_after })
        }
        Err(failed) => outcome.refuse(failed),
    }
}

/// The writes that make the issued certificates the card's and revoke what they replace;
/// the new login certificate's end; the serials for the trail.
fn renewed(
    renewal: &Renewal,
    channel: &RenewalChannel,
) -> Result<(Vec<Write>, i64, String), AppError> {
    let card = renewal.card_guid;
    let mut writes = Vec::new();
    let mut not_after = None;
    let mut serials = Vec::new();
    for pending in &channel.issued {
        let slot = pending.key_slot()?;
        if slot == KeySlot::PivAuth {
            not_after = Some(pending.not_after);
        }
        serials.push(format!(
            "{} certificate {}",
            slot.as_str().to_uppercase(),
            pending.serial
        ));
        writes.push(Write::CardCertificate {
            card,
            slot,
            issued: Issued {
                der: pending.der.0.clone(),
                serial: pending.serial.clone(),
                not_after: pending.not_after,
            },
        });
        writes.push(Write::RevokeReplaced {
            card,
            slot,
            kept_serial: pending.serial.clone(),
            reason: SUPERSEDED,
        });
    }
    let card_auth_key = channel
        .card_auth_key
        .clone()
        .ok_or(AppError::Invariant("a renewal without its 9E key"))?;
    writes.push(Write::CardAuthKey {
        card,
        public_key: card_auth_key.0,
    });
    let not_after = not_after.ok_or(AppError::Invariant("a renewal without its 9A certificate"))?;
    Ok((writes, not_after, serials.join(", ")))
}
