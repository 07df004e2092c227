//! Settings: a TOML file (optional) with `SCSS_<FIELD>` environment overrides. Bad or
//! missing values are clear start-up errors (ALL-2).

use std::net::SocketAddr;
use std::path::PathBuf;

mod keys;
mod load;
mod notify;
mod ops;
mod origin;
#[cfg(test)]
mod sample;
mod smtp;

use origin::{is_loopback_origin, is_origin};

pub use keys::VersionedKey;
pub(crate) use notify::uuid_shaped;
pub use ops::LogFormat;
pub use smtp::SmtpTls;

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("setting {name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Apply migrations at start-up (the default); off when the service runs as a role
    /// that may not change the schema (then `smartcard-server migrate` runs as the owner,
    /// and start-up only checks the schema is current).
    pub migrate_on_start: bool,
    /// The built SPA; not served when unset.
    pub static_dir: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first) and key; plain HTTP
    /// without (behind a TLS proxy, or the loopback demo).
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (only to a relay on this machine), `starttls` or `tls`.
    pub smtp_tls: SmtpTls,
    /// SMTP credentials, sent only over TLS.
    pub smtp_username: Option<String>,
    pub smtp_password: SecretString,
    pub mail_from: String,
    /// SMS-1: GOV.UK Notify's API (`https://api.notifications.service.gov.uk`, or the
    /// local stand-in); empty: no text messages, so SMS is never offered.
    pub notify_base_url: String,
    /// Notify's API key, `{key name}-{service id}-{secret}`. A secret.
    pub notify_api_key: SecretString,
    /// The Notify template (a UUID) of the one-time passcode text, whose placeholders are
    /// `((code))`, `((minutes))` and `((not_me_url))` (README).
    pub notify_sms_template_id: String,
    /// Key-encryption key for per-card PUKs (32 bytes, hex). Required.
    pub kek_hex: SecretString,
    /// The version number of `kek_hex`, written into every value it seals.
    pub kek_version: u32,
    /// Earlier KEKs still readable while `rotate-kek` re-seals under the current one:
    /// `VERSION:HEX` entries separated by commas. Empty once a rotation is done.
    pub previous_keks: SecretString,
    /// Key of the audit trail's HMAC chains (32 bytes, hex). Required (RA-4).
    pub audit_key_hex: SecretString,
    /// Pepper of the unlock-code hashes (32 bytes, hex). Required (ALL-1, ALL-7).
    pub code_pepper_hex: SecretString,
    /// P-256 private key (32 bytes, hex) that signs the card bridge's grants (BRG-5); the
    /// bridge pins its public key (`smartcard-server grant-key`). Required.
    pub grant_key_hex: SecretString,
    pub organisation_name: String,
    /// How to reach the RA team (ALL-4, UNL-4, UNL-8).
    pub ra_help: String,
    /// Where the page finds the card bridge.
    pub bridge_url: String,
    /// The origin the page is served from, e.g. `https://selfservice.example.nhs.uk`.
    /// State-changing requests must carry exactly this `Origin` (ALL-6); when it is
    /// HTTPS the flow cookie is `__Host-` and `Secure`.
    pub public_origin: String,
    /// How many of the user's 4 questions an unlock asks (UNL-3: 2..=4).
    pub questions_per_unlock: u32,
    /// Wrong unlock codes per user in 24 hours, across attempts, before self-service
    /// closes (UNL-5, ALL-1).
    pub max_code_failures_per_day: u32,
    /// ALL-5: requests per step allowed per client address, and per card or user, in
    /// each window of `rate_limit_window_secs`.
    pub rate_limit_window_secs: u32,
    pub rate_limit_per_client: u32,
    pub rate_limit_per_card: u32,
    /// ALL-2: connections served at once; more wait in the listen backlog.
    pub max_connections: u32,
    /// ALL-5 / RA-4: every call one RA makes to the console, per window.
    pub rate_limit_per_ra: u32,
    /// Proxies whose `X-Forwarded-For` is believed (ALL-5); empty: none.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// argon2id cost: memory in KiB and iterations. Cheap values only in tests.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// AUTH-2: a session ends after this long without a request…
    pub session_idle_secs: u32,
    /// …and after this long in any case.
    pub session_absolute_secs: u32,
    /// REG-3: the domains a registered email may be on (subdomains included).
    pub approved_email_domains: Vec<String>,
    /// POL-1: `seed-2006` (the default) or `nhs-2023`.
    pub policy: api_types::policy::Policy,
    /// JOB-1: seconds between an instance's runs of the scheduled work (reminders).
    pub jobs_interval_secs: u32,
    /// PASS-4: the passcodes' lifetime, reminder and lock periods, in days
    /// (`passcode_lifetime_days` 0: they never expire).
    pub passcode_expiry: api_types::passcodes::PasscodeExpiry,
    /// OPS-3: `text` (the default) or `json`, one object per line.
    pub log_format: LogFormat,
    /// OPS-2: where `/metrics` is served, apart from the API (the operator's network
    /// only); unset: no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// OPS-5: on SIGTERM, how long requests in flight and the workers' work in hand may
    /// take to finish before the process exits anyway.
    pub shutdown_grace_secs: u32,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database_url", &self.database_url)
            .field("static_dir", &self.static_dir)
            .field("tls_cert_file", &self.tls_cert_file)
            .field(
                "smtp",
                &format_args!("{}:{}", self.smtp_host, self.smtp_port),
            )
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &"<redacted>")
            .field("notify_base_url", &self.notify_base_url)
            .field("notify_api_key", &"<redacted>")
            .field("kek_hex", &"<redacted>")
            .field("kek_version", &self.kek_version)
            .field("previous_keks", &"<redacted>")
            .field("audit_key_hex", &"<redacted>")
            .field("code_pepper_hex", &"<redacted>")
            .field("grant_key_hex", &"<redacted>")
            .field("policy", &self.policy)
            .field("passcode_expiry", &self.passcode_expiry)
            .field("log_format", &self.log_format)
            .field("metrics_listen", &self.metrics_listen)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://smartcard.db?mode=rwc".into(),
            migrate_on_start: true,
            static_dir: None,
            tls_cert_file: None,
            tls_key_file: None,
            smtp_host: "127.0.0.1".into(),
            smtp_port: 1025,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: SecretString::from(""),
            mail_from: "Smartcard Service Centre <smartcard.servicecentre@nhs.net>".into(),
            notify_base_url: String::new(),
            notify_api_key: SecretString::from(""),
            notify_sms_template_id: String::new(),
            kek_hex: SecretString::from(""),
            kek_version: 1,
            previous_keks: SecretString::from(""),
            audit_key_hex: SecretString::from(""),
            code_pepper_hex: SecretString::from(""),
            grant_key_hex: SecretString::from(""),
            organisation_name: "Smartcard Service Centre".into(),
            ra_help: "Contact your Registration Authority (RA) team on 0121 000 4050, or visit \
                      the IT walk-in centres at City or Sandwell."
                .into(),
            bridge_url: "http://127.0.0.1:9981".into(),
            public_origin: "http://127.0.0.1:8080".into(),
            questions_per_unlock: 3,
            max_code_failures_per_day: 5,
            rate_limit_window_secs: 600,
            rate_limit_per_client: 100,
            rate_limit_per_card: 10,
            rate_limit_per_ra: 300,
            max_connections: 1024,
            trusted_proxies: Vec::new(),
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            session_idle_secs: 15 * 60,
            session_absolute_secs: 8 * 60 * 60,
            approved_email_domains: ["nhs.net", "nhs.uk", "gov.uk", "mod.uk"]
                .map(String::from)
                .to_vec(),
            policy: api_types::policy::Policy::default(),
            jobs_interval_secs: 60,
            passcode_expiry: api_types::passcodes::PasscodeExpiry::default(),
            log_format: LogFormat::Text,
            metrics_listen: ops::default_metrics_listen(),
            shutdown_grace_secs: 20,
        }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.kek()?;
        self.previous_keks()?;
        self.audit_key()?;
        self.code_pepper()?;
        if !(2..=4).contains(&self.questions_per_unlock) {
            return Err(ConfigError::Invalid {
                name: "questions_per_unlock",
                reason: "must be 2, 3 or 4 (UNL-3)".into(),
            });
        }
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres"))
        {
            return Err(ConfigError::Invalid {
                name: "database_url",
                reason: "must start with sqlite: or postgres://".into(),
            });
        }
        let bridge_ok = (self.bridge_url.starts_with("http://")
            || self.bridge_url.starts_with("https://"))
            && self.bridge_url.bytes().all(|b| b.is_ascii_graphic());
        if !bridge_ok {
            return Err(ConfigError::Invalid {
                name: "bridge_url",
                reason: "must be an http(s) URL like http://127.0.0.1:9981".into(),
            });
        }
        if self.tls_cert_file.is_some() != self.tls_key_file.is_some() {
            return Err(ConfigError::Invalid {
                name: "tls_cert_file",
                reason: "HTTPS needs both tls_cert_file and tls_key_file".into(),
            });
        }
        if self.rate_limit_window_secs == 0
            || self.rate_limit_per_client == 0
            || self.rate_limit_per_card == 0
            || self.rate_limit_per_ra == 0
        {
            return Err(ConfigError::Invalid {
                name: "rate_limit_*",
                reason: "window and limits must be at least 1".into(),
            });
        }
        if self.max_connections == 0 {
            return Err(ConfigError::Invalid {
                name: "max_connections",
                reason: "must be at least 1".into(),
            });
        }
        if self.session_idle_secs == 0 || self.session_absolute_secs < self.session_idle_secs {
            return Err(ConfigError::Invalid {
                name: "session_*",
                reason: "idle must be at least 1 s and no longer than absolute".into(),
            });
        }
        let expiry = self.passcode_expiry;
        let periods = [
            expiry.lifetime_days,
            expiry.reminder_days,
            expiry.lock_after_days,
        ];
        if periods.iter().any(|days| *days < 0)
            || (expiry.lifetime_days > 0 && expiry.reminder_days >= expiry.lifetime_days)
        {
            return Err(ConfigError::Invalid {
                name: "passcode_*_days",
                reason: "no period may be negative, and reminders start within the lifetime".into(),
            });
        }
        if self.jobs_interval_secs == 0 {
            return Err(ConfigError::Invalid {
                name: "jobs_interval_secs",
                reason: "must be at least 1".into(),
            });
        }
        if self.max_code_failures_per_day == 0 {
            return Err(ConfigError::Invalid {
                name: "max_code_failures_per_day",
                reason: "must be at least 1".into(),
            });
        }
        if !is_origin(&self.public_origin) {
            return Err(ConfigError::Invalid {
                name: "public_origin",
                reason: "must be a scheme and host (and port) only, like https://selfservice.example.nhs.uk".into(),
            });
        }
        if !self.public_origin_is_https() && !is_loopback_origin(&self.public_origin) {
            return Err(ConfigError::Invalid {
                name: "public_origin",
                reason: "plain http:// is for this computer only (127.0.0.1, localhost or [::1]): \
                         serve the page over https:// anywhere else, so its cookies are \
                         __Host- and Secure"
                    .into(),
            });
        }
        self.validate_smtp()?;
        self.validate_notify()?;
        self.validate_ops()?;
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid {
                name: "mail_from",
                reason: "must be an address like Name <user@example.nhs.uk>".into(),
            });
        }
        Ok(())
    }

    /// Whether the page is served over HTTPS (then the flow cookie is `__Host-`/`Secure`).
    pub fn public_origin_is_https(&self) -> bool {
        self.public_origin.starts_with("https://")
    }
}
