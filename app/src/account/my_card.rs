//! "My card" (REG-5, AUTH-2): who is signed in, their card, and sign out. Without a
//! session the page says so and links to sign in.

use api_types::auth::{Logout, LogoutRequest, SessionInfo, PATH_SESSION};
use api_types::unlock::Endpoint;
use gloo_net::http::Request;
use leptos::prelude::*;

use crate::api;
use crate::errors::{Problem, ProblemSummary};

async fn session() -> Result<SessionInfo, Problem> {
    api::send(Request::get(PATH_SESSION).build(), Problem::network).await
}

#[component]
pub fn MyCard() -> impl IntoView {
    let current = LocalResource::new(session);
    let sign_out = Action::new_local(|_: &()| async {
        api::call::<Logout>(Logout::ROUTE, &LogoutRequest {}).await
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = sign_out.value().get() {
            let _ = window().location().assign("/login");
        }
    });
    view! {
        <Suspense fallback=|| view! { <p aria-live="polite">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match current.await {
                    Ok(info) => view! {
                        <h1 tabindex="-1">"My card"</h1>
                        <dl class="nhsuk-summary-list">
                            <div class="nhsuk-summary-list__row">
                                <dt class="nhsuk-summary-list__key">"Name"</dt>
                                <dd class="nhsuk-summary-list__value" id="my-name">{info.display_name}</dd>
                            </div>
                            <div class="nhsuk-summary-list__row">
                                <dt class="nhsuk-summary-list__key">"UUID"</dt>
                                <dd class="nhsuk-summary-list__value" id="my-uuid">{info.uuid}</dd>
                            </div>
                            <div class="nhsuk-summary-list__row">
                                <dt class="nhsuk-summary-list__key">"Smartcard"</dt>
                                <dd class="nhsuk-summary-list__value" id="my-card-guid">{info.card_guid.to_hex()}</dd>
                            </div>
                        </dl>
                        {move || sign_out.value().get().and_then(Result::err).map(|p| view! { <ProblemSummary problem=p/> })}
                        <button type="button" id="sign-out-button" class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| { sign_out.dispatch_local(()); }>
                            "Sign out"
                        </button>
                    }.into_any(),
                    Err(problem) => view! {
                        <h1 tabindex="-1">"You are not signed in"</h1>
                        <ProblemSummary problem=problem/>
                        <p><a href="/login">"Sign in with your smartcard"</a></p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
