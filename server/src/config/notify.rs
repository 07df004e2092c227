//! SMS-1: how texts leave — GOV.UK Notify's API over HTTPS, or plain HTTP only to a
//! stand-in on this machine (SMS-2), with a well-formed API key and template id; or not
//! at all, when no base URL is set (then SMS is never offered).

use secrecy::ExposeSecret;

use super::{ConfigError, Settings};
use crate::notify::ApiKey;

impl Settings {
    /// Whether texts can be sent: SMS is offered only then (SCSC-2, POL-3).
    pub fn texts_enabled(&self) -> bool {
        !self.notify_base_url.is_empty()
    }

    pub(crate) fn validate_notify(&self) -> Result<(), ConfigError> {
        if !self.texts_enabled() {
            return Ok(());
        }
        let invalid = |name, reason: &str| ConfigError::Invalid {
            name,
            reason: reason.into(),
        };
        let url = self.notify_base_url.as_str();
        let local = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
            .iter()
            .any(|prefix| url.starts_with(prefix));
        let well_formed = url.bytes().all(|b| b.is_ascii_graphic()) && !url.ends_with('/');
        if !(url.starts_with("https://") || local) || !well_formed {
            return Err(invalid(
                "notify_base_url",
                "must be an https:// URL without a trailing slash (plain http:// only to this \
                 computer), like https://api.notifications.service.gov.uk",
            ));
        }
        if ApiKey::parse(self.notify_api_key.expose_secret()).is_none() {
            return Err(invalid(
                "notify_api_key",
                "must be a Notify API key: {key name}-{service id}-{secret}",
            ));
        }
        if uuid_shaped(&self.notify_sms_template_id).is_none() {
            return Err(invalid(
                "notify_sms_template_id",
                "must be the template's id, a UUID",
            ));
        }
        Ok(())
    }
}

/// A UUID in its usual 8-4-4-4-12 hex form.
pub(crate) fn uuid_shaped(text: &str) -> Option<&str> {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
    (lengths == [8, 4, 4, 4, 12] && hex).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "selfservice-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0";

    fn with(url: &str, key: &str, template: &str) -> Settings {
        Settings {
            notify_base_url: url.into(),
            notify_api_key: key.into(),
            notify_sms_template_id: template.into(),
            ..Settings::default()
        }
    }

    #[test]
    fn sms_1_texts_go_over_https_or_to_a_stand_in_here_with_a_real_key_and_template() {
        let template = "0e8e6f4f-0a4c-4c1b-9a53-1f3f6c7f2a10";
        assert!(with("", "", "").validate_notify().is_ok());
        assert!(!with("", "", "").texts_enabled());
        for ok in [
            "https://api.notifications.service.gov.uk",
            "http://127.0.0.1:9982",
        ] {
            assert!(with(ok, KEY, template).validate_notify().is_ok(), "{ok}");
        }
        for (url, key, template) in [
            ("http://notify.example.com", KEY, template),
            ("https://api.notifications.service.gov.uk/", KEY, template),
            (
                "https://api.notifications.service.gov.uk",
                "short-key",
                template,
            ),
            ("https://api.notifications.service.gov.uk", KEY, "template"),
        ] {
            assert!(
                with(url, key, template).validate_notify().is_err(),
                "{url} {key}"
            );
        }
    }
}
