//! OPS-2, OPS-3, OPS-5: how an instance is watched and stopped — its log format, the
//! address its metrics are scraped on, and how long a SIGTERM drain may take.

use std::net::SocketAddr;

use serde::Deserialize;

use super::load::{env, parse_env};
use super::{ConfigError, Settings};

/// OPS-3: text for a person at a terminal, one JSON object per line for a log pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("must be text or json".into()),
        }
    }
}

/// The longest drain a setting may ask for: a stop that waits longer than systemd's
/// default `TimeoutStopSec` (90 s) would be killed anyway.
const MAX_GRACE_SECS: u32 = 85;

impl Settings {
    pub(super) fn load_ops_env(&mut self) -> Result<(), ConfigError> {
        parse_env("LOG_FORMAT", &mut self.log_format)?;
        if let Some(listen) = env("METRICS_LISTEN") {
            self.metrics_listen = match listen.as_str() {
                "" => None,
                address => Some(address.parse().map_err(|e: std::net::AddrParseError| {
                    ConfigError::Invalid {
                        name: "metrics_listen",
                        reason: e.to_string(),
                    }
                })?),
            };
        }
        parse_env("SHUTDOWN_GRACE_SECS", &mut self.shutdown_grace_secs)?;
        Ok(())
    }

    pub(super) fn validate_ops(&self) -> Result<(), ConfigError> {
        if self
            .metrics_listen
            .is_some_and(|metrics| metrics == self.listen && metrics.port() != 0)
        {
            return Err(ConfigError::Invalid {
                name: "metrics_listen",
                reason: "must differ from listen: metrics are for the operator's network only"
                    .into(),
            });
        }
        if self.shutdown_grace_secs > MAX_GRACE_SECS {
            return Err(ConfigError::Invalid {
                name: "shutdown_grace_secs",
                reason: format!("must be at most {MAX_GRACE_SECS}"),
            });
        }
        Ok(())
    }

    /// OPS-5: how long a drain may take.
    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.shutdown_grace_secs))
    }
}

/// Where metrics are scraped when nothing says otherwise: none (off).
pub(super) fn default_metrics_listen() -> Option<SocketAddr> {
    None
}
