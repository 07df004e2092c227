//! "My card" (REG-5, AUTH-2): who is signed in, their registration and self-service
//! state, their card's certificate expiry, their own recent security events, and sign
//! out. Without a session the page says so and links to sign in.

use api_types::auth::{Logout, LogoutRequest, MyCard as Mine, PATH_MY_CARD};
use api_types::unlock::Endpoint;
use gloo_net::http::Request;
use leptos::prelude::*;

use crate::api;
use crate::errors::{Problem, ProblemSummary};

async fn mine() -> Result<Mine, Problem> {
    api::send(Request::get(PATH_MY_CARD).build(), Problem::network).await
}

/// A date for people: `2029-11-23` from unix seconds (UTC).
fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn row(key: &'static str, id: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="nhsuk-summary-list__row">
            <dt class="nhsuk-summary-list__key">{key}</dt>
            <dd class="nhsuk-summary-list__value" id=id>{value}</dd>
        </div>
    }
}

#[component]
pub fn MyCard() -> impl IntoView {
    let current = LocalResource::new(mine);
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
                    Ok(me) => view! {
                        <h1 tabindex="-1">"My card"</h1>
                        <dl class="nhsuk-summary-list">
                            {row("Name", "my-name", me.display_name)}
                            {row("UUID", "my-uuid", me.uuid)}
                            {row("Organisation", "my-organisation", me.organisation)}
                            {row("Email", "my-email", me.email)}
                            {row("Smartcard", "my-card-guid", me.card_guid.to_hex())}
                            {row("Certificate expires", "my-certificate-expiry",
                                me.certificate_expires_at.map(date).unwrap_or_else(|| "No current certificate".into()))}
                            {row("Self-service unlock", "my-registration",
                                match (me.registered, me.self_service_closed) {
                                    (_, true) => "Closed: contact your Registration Authority".into(),
                                    (true, false) => "Registered".into(),
                                    (false, false) => "Not registered".into(),
                                })}
                        </dl>
                        <p><a href="/register" id="register-link">
                            {if me.registered { "Change your security questions" } else { "Register for self-service unlock" }}
                        </a></p>
                        <h2>"Recent security events"</h2>
                        <table class="nhsuk-table" id="my-events">
                            <thead class="nhsuk-table__head"><tr>
                                <th scope="col">"Date"</th><th scope="col">"Event"</th><th scope="col">"Outcome"</th>
                            </tr></thead>
                            <tbody>
                                {me.events.into_iter().map(|e| view! {
                                    <tr><td>{date(e.at)}</td><td>{e.action}</td><td>{e.outcome}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_5_dates_read_as_people_write_them() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_900_000_000), "2030-03-17");
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
