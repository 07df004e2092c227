//! RA-3 / CERT-4: renewing a cardholder's certificates at the RA desk. The RA begins it
//! from the user's page with their own card in the reader (proven again if need be,
//! RA-5); then takes their card out and puts the cardholder's in — the console stays open
//! for that card, and only it (see `card::follow`) — and the renewal's steps run on it as
//! they do on the cardholder's own page. Done, the RA puts their own card back and the
//! console follows it alone again. The state lives with the RA's card, so it outlasts the
//! page's record reloading.

use api_types::renewal::{RenewalChannel, RenewalChannelRequest, RenewalOpened};
use api_types::time::utc_date;
use api_types::CardGuid;
use leptos::prelude::*;

use super::card::RaCard;
use crate::api;
use crate::bridge::CardState;
use crate::errors::{Problem, ProblemSummary};
use crate::renewal_steps::{self, Stage};

/// Where a desk renewal stands; all handles, so it is `Copy`.
#[derive(Clone, Copy)]
pub(super) struct DeskRenewal {
    /// Begun, for this cardholder (by name); none when no desk renewal is under way.
    opened: RwSignal<Option<(RenewalOpened, String)>>,
    stage: RwSignal<Option<Stage>>,
    problem: RwSignal<Option<Problem>>,
    /// The new certificates' end, once the card holds them.
    renewed_until: RwSignal<Option<i64>>,
}

impl DeskRenewal {
    pub(super) fn new() -> Self {
        Self {
            opened: RwSignal::new(None),
            stage: RwSignal::new(None),
            problem: RwSignal::new(None),
            renewed_until: RwSignal::new(None),
        }
    }

    /// The cardholder's card while a desk renewal is under way.
    pub(super) fn card(self) -> Option<CardGuid> {
        self.opened
            .with(|o| o.as_ref().map(|(opened, _)| opened.card_guid))
    }

    /// The renewal's channel opened: now the cardholder's card goes in.
    pub(super) fn begin(self, opened: RenewalOpened, name: String) {
        self.problem.set(None);
        self.renewed_until.set(None);
        self.opened.set(Some((opened, name)));
    }

    /// Runs the steps when the cardholder's card is in; ends desk mode when the RA's own
    /// card is back after it is done.
    pub(super) fn follow(self, ra: RaCard) {
        Effect::new(move |_| {
            let state = ra.card().get();
            let Some((opened, _)) = self.opened.get() else {
                return;
            };
            let present = |guid| matches!(&state, CardState::Present(info) if info.guid == guid);
            let idle =
                self.stage.get_untracked().is_none() && self.problem.get_untracked().is_none();
            if self.renewed_until.get_untracked().is_some() {
                if present(ra.mine) {
                    self.opened.set(None);
                }
            } else if idle && present(opened.card_guid) {
                self.stage.set(Some(Stage::Channel));
                let bridge = ra.bridge();
                leptos::task::spawn_local(async move {
                    match renewal_steps::on_card(&bridge, opened, self.stage, None).await {
                        Ok(done) => self.renewed_until.set(Some(done.not_after)),
                        Err(problem) => self.problem.set(Some(problem)),
                    }
                    self.stage.set(None);
                });
            }
        });
    }

    /// After a failure: a new channel for the same renewal; the steps run again.
    fn again(self) {
        let Some((opened, name)) = self.opened.get_untracked() else {
            return;
        };
        self.problem.set(None);
        self.stage.set(Some(Stage::Channel));
        leptos::task::spawn_local(async move {
            let reopened =
                api::call::<RenewalChannel>(&opened.renewal_id, &RenewalChannelRequest {}).await;
            self.stage.set(None);
            match reopened {
                // Set anew: the card's watcher runs the steps with the new channel.
                Ok(reopened) => self.opened.set(Some((reopened, name))),
                Err(problem) => self.problem.set(Some(problem)),
            }
        });
    }

    /// Gives up (the RA's own card goes back in): the old certificates stay in force.
    fn stop(self) {
        self.problem.set(None);
        self.opened.set(None);
    }
}

/// What the RA sees while a desk renewal is under way, and when it is done.
#[component]
pub(super) fn DeskRenewalStatus(ra: RaCard) -> impl IntoView {
    let desk = ra.desk;
    let said = move || {
        let (_, name) = desk.opened.get()?;
        let text = match (desk.renewed_until.get(), desk.stage.get()) {
            (Some(until), _) => format!(
                "{name}'s certificates are renewed, valid until {}. Take their card out and \
                 put your own card back in the reader.",
                utc_date(until)
            ),
            (None, Some(stage)) => stage.words(true).to_owned(),
            (None, None) => format!(
                "Take your own card out of the reader and put {name}'s card in. The console \
                 stays open for their card while you do."
            ),
        };
        Some(text)
    };
    view! {
        <div id="desk-renewal" role="status" aria-live="polite">
            {move || said().map(|text| view! {
                <div class="nhsuk-inset-text"><p id="desk-renewal-said">{text}</p></div>
            })}
        </div>
        {move || desk.problem.get().map(|problem| view! {
            <ProblemSummary problem=problem/>
            <button type="button" id="desk-renewal-again" class="nhsuk-button"
                on:click=move |_| desk.again()>"Try again"</button>
            <button type="button" id="desk-renewal-stop" class="nhsuk-button nhsuk-button--secondary"
                on:click=move |_| desk.stop()>"Stop the renewal"</button>
        })}
    }
}
