//! How mail leaves (ALL-7): STARTTLS or implicit TLS with credentials to a real relay;
//! plain SMTP only to a relay on this machine (the dev mail catcher), so neither a code
//! nor a password crosses a network in clear.

use serde::Deserialize;

use super::{ConfigError, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP: only to a relay on the loopback interface.
    #[default]
    None,
    /// Upgrade with STARTTLS (usually port 587); refuse to send if the relay can't.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl std::str::FromStr for SmtpTls {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            _ => Err("must be none, starttls or tls".into()),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Settings {
    pub(crate) fn validate_smtp(&self) -> Result<(), ConfigError> {
        if self.smtp_tls == SmtpTls::None && !is_loopback(&self.smtp_host) {
            return Err(ConfigError::Invalid {
                name: "smtp_tls",
                reason: format!(
                    "plain SMTP is only allowed to a relay on this machine; set starttls or tls \
                     for {}",
                    self.smtp_host
                ),
            });
        }
        if self.smtp_username.is_some() && self.smtp_tls == SmtpTls::None {
            return Err(ConfigError::Invalid {
                name: "smtp_username",
                reason: "credentials are only sent over starttls or tls".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(host: &str, tls: SmtpTls, user: Option<&str>) -> Settings {
        Settings {
            smtp_host: host.into(),
            smtp_tls: tls,
            smtp_username: user.map(str::to_owned),
            ..Settings::default()
        }
    }

    #[test]
    fn all_7_plain_smtp_only_to_a_local_relay_and_never_with_credentials() {
        assert!(with("127.0.0.1", SmtpTls::None, None)
            .validate_smtp()
            .is_ok());
        assert!(with("[::1]", SmtpTls::None, None).validate_smtp().is_ok());
        assert!(with("smtp.nhs.net", SmtpTls::None, None)
            .validate_smtp()
            .is_err());
        assert!(with("127.0.0.1", SmtpTls::None, Some("svc"))
            .validate_smtp()
            .is_err());
        assert!(with("smtp.nhs.net", SmtpTls::StartTls, Some("svc"))
            .validate_smtp()
            .is_ok());
        assert_eq!("tls".parse(), Ok(SmtpTls::Tls));
        assert!("ssl".parse::<SmtpTls>().is_err());
    }
}
