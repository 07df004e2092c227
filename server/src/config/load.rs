//! Where settings come from (OPS-3: `smartcard-server --help` says the same): the
//! defaults, then the TOML file, then one `SCSS_<NAME>` environment variable per setting.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::{ConfigError, Settings};

pub(super) fn env(name: &str) -> Option<String> {
    std::env::var(format!("SCSS_{name}")).ok()
}

/// A secret from the environment goes straight into a `SecretString`.
fn secret_env(name: &'static str, target: &mut SecretString) {
    if let Some(value) = env(name) {
        *target = SecretString::from(value);
    }
}

pub(super) fn parse_env<T: std::str::FromStr>(
    name: &'static str,
    target: &mut T,
) -> Result<(), ConfigError>
where
    T::Err: std::fmt::Display,
{
    if let Some(value) = env(name) {
        *target = value.parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

impl Settings {
    /// File (if given) then environment, then validation.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_owned(),
                    source,
                })?
            }
            None => Settings::default(),
        };
        parse_env("LISTEN", &mut settings.listen)?;
        parse_env("DATABASE_URL", &mut settings.database_url)?;
        parse_env("MIGRATE_ON_START", &mut settings.migrate_on_start)?;
        parse_env("SMTP_HOST", &mut settings.smtp_host)?;
        parse_env("SMTP_PORT", &mut settings.smtp_port)?;
        parse_env("SMTP_TLS", &mut settings.smtp_tls)?;
        if let Some(user) = env("SMTP_USERNAME") {
            settings.smtp_username = Some(user);
        }
        secret_env("SMTP_PASSWORD", &mut settings.smtp_password);
        parse_env("MAIL_FROM", &mut settings.mail_from)?;
        parse_env("NOTIFY_BASE_URL", &mut settings.notify_base_url)?;
        secret_env("NOTIFY_API_KEY", &mut settings.notify_api_key);
        parse_env(
            "NOTIFY_SMS_TEMPLATE_ID",
            &mut settings.notify_sms_template_id,
        )?;
        secret_env("KEK_HEX", &mut settings.kek_hex);
        parse_env("KEK_VERSION", &mut settings.kek_version)?;
        secret_env("PREVIOUS_KEKS", &mut settings.previous_keks);
        secret_env("AUDIT_KEY_HEX", &mut settings.audit_key_hex);
        secret_env("CODE_PEPPER_HEX", &mut settings.code_pepper_hex);
        secret_env("GRANT_KEY_HEX", &mut settings.grant_key_hex);
        parse_env("ORGANISATION_NAME", &mut settings.organisation_name)?;
        parse_env("RA_HELP", &mut settings.ra_help)?;
        parse_env("BRIDGE_URL", &mut settings.bridge_url)?;
        parse_env("PUBLIC_ORIGIN", &mut settings.public_origin)?;
        parse_env("QUESTIONS_PER_UNLOCK", &mut settings.questions_per_unlock)?;
        parse_env(
            "MAX_CODE_FAILURES_PER_DAY",
            &mut settings.max_code_failures_per_day,
        )?;
        parse_env(
            "RATE_LIMIT_WINDOW_SECS",
            &mut settings.rate_limit_window_secs,
        )?;
        parse_env("RATE_LIMIT_PER_CLIENT", &mut settings.rate_limit_per_client)?;
        parse_env("RATE_LIMIT_PER_CARD", &mut settings.rate_limit_per_card)?;
        parse_env("RATE_LIMIT_PER_RA", &mut settings.rate_limit_per_ra)?;
        parse_env("MAX_CONNECTIONS", &mut settings.max_connections)?;
        parse_env("SESSION_IDLE_SECS", &mut settings.session_idle_secs)?;
        parse_env("SESSION_ABSOLUTE_SECS", &mut settings.session_absolute_secs)?;
        if let Some(list) = env("TRUSTED_PROXIES") {
            settings.trusted_proxies = list
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.trim().parse())
                .collect::<Result<_, _>>()
                .map_err(|e: std::net::AddrParseError| ConfigError::Invalid {
                    name: "trusted_proxies",
                    reason: format!("must be IP addresses separated by commas: {e}"),
                })?;
        }
        if let Some(list) = env("APPROVED_EMAIL_DOMAINS") {
            settings.approved_email_domains = list
                .split(',')
                .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect();
        }
        parse_env("POLICY", &mut settings.policy)?;
        parse_env("JOBS_INTERVAL_SECS", &mut settings.jobs_interval_secs)?;
        let expiry = &mut settings.passcode_expiry;
        parse_env("PASSCODE_LIFETIME_DAYS", &mut expiry.lifetime_days)?;
        parse_env("PASSCODE_REMINDER_DAYS", &mut expiry.reminder_days)?;
        parse_env("PASSCODE_LOCK_AFTER_DAYS", &mut expiry.lock_after_days)?;
        parse_env("ARGON2_MEMORY_KIB", &mut settings.argon2_memory_kib)?;
        parse_env("ARGON2_ITERATIONS", &mut settings.argon2_iterations)?;
        if let Some(dir) = env("STATIC_DIR") {
            settings.static_dir = Some(PathBuf::from(dir));
        }
        // Only when set: the file's certificate must not be forgotten for want of an
        // environment variable.
        if let Some(file) = env("TLS_CERT_FILE") {
            settings.tls_cert_file = Some(PathBuf::from(file));
        }
        if let Some(file) = env("TLS_KEY_FILE") {
            settings.tls_key_file = Some(PathBuf::from(file));
        }
        settings.load_ops_env()?;
        settings.validate()?;
        Ok(settings)
    }
}
