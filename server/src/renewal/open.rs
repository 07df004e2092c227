//! CERT-3: a renewal begins with the passcode entered on the card (a fresh login
//! challenge signed by its 9A key) when the rules allow it (CERT-2, CERT-4), and opens a
//! secure channel to the card; after any failure, the same renewal opens a new one
//! (CARD-3), which replaces the earlier channel and anything sealed on it.

use std::ops::ControlFlow;

use api_types::audit::AuditAction;
use api_types::policy::Policy;
use api_types::renewal::{RenewalChannelRequest, RenewalOpened, RenewalStartRequest};
use api_types::values::RenewalId;

use super::abandoned;
use super::rules::{check_open, may_renew};
use crate::flow::card_again::CardProvenAgain;
use crate::flow::{Client, Outcome, Subject, Write};
use crate::secrets::FlowSecret;
use crate::store::cards;
use crate::store::corrupt;
use crate::store::renewals::{self, LoginCertificate, Renewal};
use crate::{AppError, AppState};

const START: AuditAction = AuditAction::RenewStart;
const REOPEN: AuditAction = AuditAction::RenewChannel;

impl AppState {
    pub async fn renewal_start(
        &self,
        secret: Option<&FlowSecret>,
        request: RenewalStartRequest,
        client: &Client,
    ) -> Result<RenewalOpened, AppError> {
        let signed = (&request.login_id, &request.signature);
        let (session, now, mut tx, proof) = self.card_step(START, secret, client, signed).await?;
        let info = &session.info;
        let card = cards::find_for_update(&mut tx, self.store.backend, &info.card_guid)
            .await?
            .ok_or_else(|| corrupt("cards", "guid"))?;
        let login = renewals::login_certificate(&mut tx, &info.card_guid).await?;
        let (renewal, opened) = self.renewal_begun(&card, None, now)?;
        let given = Start {
            policy: self.settings.policy,
            subject: Subject::session(info),
            proof,
            login,
            renewal,
            opened,
        };
        self.finish(tx, now, client, decide_start(given, now)).await
    }

    pub async fn renewal_channel(
        &self,
        id: &RenewalId,
        secret: Option<&FlowSecret>,
        _request: RenewalChannelRequest,
        client: &Client,
    ) -> Result<RenewalOpened, AppError> {
        let (now, tx, _, found) = self.renewal_step(REOPEN, id, secret, None, client).await?;
        let outcome = match found {
            Ok((renewal, card)) => {
                let opened = self.renewal_opening(renewal.clone(), &card, false, now);
                decide_reopen(renewal, opened, now)
            }
            Err(refused) => refused,
        };
        self.finish(tx, now, client, outcome).await
    }
}

/// What the start read and was given.
struct Start {
    policy: Policy,
    subject: Subject,
    proof: CardProvenAgain,
    login: LoginCertificate,
    renewal: Renewal,
    opened: RenewalOpened,
}

fn decide_start(given: Start, now: i64) -> Outcome<RenewalOpened> {
    let outcome = match given.proof.gate(Outcome::new(START, given.subject)) {
        ControlFlow::Continue(outcome) => outcome,
        ControlFlow::Break(refused) => return refused,
    };
    if let Err(refused) = may_renew(given.policy, given.login, now) {
        return outcome.refuse(refused);
    }
    outcome
        .detail(format!("renewal {}", given.renewal.id))
        .write(Write::NewRenewal(given.renewal))
        .ok("ok", given.opened)
}

fn decide_reopen(
    renewal: Renewal,
    opened: Result<(Renewal, RenewalOpened), AppError>,
    now: i64,
) -> Outcome<RenewalOpened> {
    let outcome = Outcome::new(
        REOPEN,
        Subject::card_of(renewal.card_guid, &renewal.user_uuid),
    );
    if let Err(refused) = check_open(&renewal, now) {
        return outcome.refuse(refused);
    }
    match opened {
        Ok((reopened, opened)) => outcome
            .write_all(abandoned(&renewal))
            .write(Write::Renewal(reopened))
            .ok("ok", opened),
        Err(failed) => outcome.refuse(failed),
    }
}
