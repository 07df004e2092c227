//! Manage Passcodes (PASS-1…PASS-3, seed 003): one Update sets every passcode chosen,
//! together. The current Smartcard Passcode is entered on the card (a fresh login
//! challenge signed by its 9A key); new Account Recovery and Verification Passcodes are
//! checked against their last five (keyed hashes) and stored as peppered argon2id hashes.
//! A new Smartcard Passcode is the card's to take: the server keeps the rest of the
//! Update aside, gives the page a `change_pin` grant for the bridge (the server never
//! learns the passcode, CARD-3; the card refuses one of its last five, CARD-5), and sets
//! the rest only when the page says the card took it — so a refused card passcode leaves
//! every passcode as it was.

mod card_took;
mod remind;
mod rules;
mod update;

use api_types::passcodes::{PasscodeKind, PasscodesView};
use api_types::ra::UserUuid;

use crate::flow::notice::NotMeDraw;
use crate::flow::{Outcome, Write};
use crate::mail::passcodes as passcodes_mail;
use crate::mail::templates::Sender;
use crate::store::passcodes::{self, HashedChanges};
use crate::store::users::User;
use crate::store::Tx;
use crate::{AppError, AppState};

impl AppState {
    /// PASS-1: which server-side passcodes are set, and when the passcodes were last set.
    pub async fn view_passcodes(
        &self,
        secret: Option<&crate::secrets::FlowSecret>,
        client: &crate::flow::Client,
    ) -> Result<PasscodesView, AppError> {
        let session = self.current_session(secret, client).await?;
        let (_, mut tx) = self.open().await?;
        let view = passcodes_view(&mut tx, &session.info.uuid).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        Ok(view)
    }
}

/// PASS-2: an Update's server-side changes set, and the holder told what changed, with
/// a "this wasn't me" link.
fn set_and_tell<T>(
    outcome: Outcome<T>,
    holder: &User,
    (changes, names): (HashedChanges, &[&str]),
    (sender, not_me): (&Sender<'_>, NotMeDraw<'_>),
    now: i64,
) -> Outcome<T> {
    let (link, url) = not_me.link(&holder.uuid, "passcodes", now);
    let to = (holder.email.as_str(), holder.display_name.as_str());
    outcome
        .write(Write::Passcodes {
            user_uuid: holder.uuid.clone(),
            changes,
        })
        .write(link)
        .write(Write::Mail(passcodes_mail::changed(
            sender, to, names, &url,
        )))
}

pub(crate) async fn passcodes_view(
    tx: &mut Tx,
    user: &UserUuid,
) -> Result<PasscodesView, AppError> {
    let set = passcodes::hashes(tx, user).await?;
    let has = |kind: PasscodeKind| set.iter().any(|(k, _)| *k == kind);
    Ok(PasscodesView {
        account_recovery_set: has(PasscodeKind::AccountRecovery),
        verification_set: has(PasscodeKind::Verification),
        last_set_at: passcodes::last_set(tx, user).await?,
    })
}
