//! OPS-4: what `/readyz` answers a load balancer or an operator — whether this instance
//! can serve, and each check's state as a code. (`/healthz` answers the text `ok`.) Not
//! under `/api/`: the paths are the ones load balancers and orchestrators expect.

use serde::{Deserialize, Serialize};

/// The liveness path: the process answers.
pub const HEALTHZ: &str = "/healthz";
/// The readiness path: 200 with [`Readiness`] when ready, 503 with it when not.
pub const READYZ: &str = "/readyz";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Readiness {
    pub ready: bool,
    /// Told to stop (SIGTERM): finishing its requests in flight, taking no new ones.
    pub draining: bool,
    pub database: Check,
    /// The database's schema is the one this build needs.
    pub schema: Check,
    pub email_queue: Check,
    pub sms_queue: Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Ok,
    /// The database did not answer.
    Unreachable,
    /// Migrations this build needs have not been run.
    Behind,
    /// A message has waited unsent longer than a working queue ever keeps one.
    Stuck,
    /// Not known: what it needs (the database) failed first.
    Unknown,
}
