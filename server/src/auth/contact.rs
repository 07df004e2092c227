//! REG-5: the user changes their email and mobile on "My card", after entering the
//! passcode again on the card (the email is where unlock codes go). The email must be on
//! an approved domain (REG-3), the mobile a UK mobile; the OLD address is told, with a
//! "this wasn't me" link.

use api_types::auth::{ChangeContactRequest, MyCard};

use crate::flow::{Outcome, Subject, Write};
use crate::mail::templates;
use crate::register::rules::check_contact;
use crate::secrets::FlowSecret;
use crate::store::users;
use crate::unlock::limits::Scope;
use crate::unlock::Client;
use crate::{AppError, AppState};

const ACTION: &str = "user.contact";

impl AppState {
    pub async fn change_contact(
        &self,
        secret: Option<&FlowSecret>,
        request: ChangeContactRequest,
        client: &Client,
    ) -> Result<MyCard, AppError> {
        let session = self.current_session(secret, client).await?;
        let uuid = session.info.uuid.clone();
        self.limit(ACTION, Scope::User(&uuid), Subject::default(), client)
            .await?;
        let now = self.clock.now();
        let approved = &self.settings.approved_email_domains;
        let checked = check_contact(&request.email, request.mobile.as_deref(), approved);
        let mut tx = self.store.begin().await?;
        let subject = Subject {
            card_guid: Some(session.info.card_guid),
            user_uuid: Some(uuid.clone()),
        };
        let mut outcome = Outcome::new(ACTION, subject);
        let (spent, proven) = self
            .card_proven_again(
                &mut tx,
                session.info.card_guid,
                &request.login_id,
                &request.signature,
                now,
            )
            .await?;
        if let Some(spent) = spent {
            outcome = outcome.write(spent);
        }
        let user = users::find_for_update(&mut tx, self.store.backend, &uuid).await?;
        let outcome = match (proven, checked, user) {
            (Err(refused), _, _) | (_, Err(refused), _) => outcome.refuse(refused),
            (Ok(()), Ok(_), None) => outcome.refuse(AppError::NotSignedIn),
            (Ok(()), Ok((email, mobile)), Some(user)) => {
                let (link, url) = crate::not_me::new_link(
                    &self.settings.public_origin,
                    &user.uuid,
                    "contact",
                    now,
                );
                let notice = templates::contact_changed(
                    &self.sender(),
                    &user.email,
                    &user.display_name,
                    &url,
                );
                outcome
                    .write(Write::Contact {
                        user_uuid: user.uuid.clone(),
                        email,
                        mobile,
                    })
                    .write(link)
                    .write(Write::Mail(notice))
                    .ok("changed", ())
            }
        };
        self.finish(tx, now, client, outcome).await?;
        self.my_card(secret, client).await
    }
}
