//! RA-4: the audit trail for the RA — searched and exported as CSV (streamed a page at a
//! time, so a trail of any length never sits in memory), its MAC chains verified
//! incrementally (the page checks at most [`PAGE_CHECK`] new events, the background check
//! the rest, both from MACed checkpoints), the "this wasn't me" reports as a queue the RA
//! works through, and the at-risk dashboard. Exports and reviews are audited themselves.

use api_types::audit::AuditAction;
use api_types::ra::{
    AuditFilter, AuditPage, ChainState, Dashboard, Expiring, Lockouts, Report, ReportId,
    ReportList, EVENTS_PER_PAGE,
};
use api_types::time::utc_date_time;
use api_types::CardGuid;
use axum::body::Bytes;
use futures_util::stream::{self, Stream, StreamExt};

use super::{summary, Needs};
use crate::flow::{Client, Outcome, Subject};
use crate::secrets::FlowSecret;
use crate::store::audit_check::{self, Checked, Reads};
use crate::store::audit_search::{self, Event, Filter};
use crate::store::{not_me, ra, StoreError};
use crate::{AppError, AppState};

const EXPORT: AuditAction = AuditAction::RaAuditExport;
const VIEW_TRAIL: AuditAction = AuditAction::RaViewTrail;
const VIEW_REPORTS: AuditAction = AuditAction::RaViewReports;
const VIEW_DASHBOARD: AuditAction = AuditAction::RaViewDashboard;
/// Rows per database read of an export.
const CSV_BATCH: i64 = 500;
/// Entries per dashboard list.
const LISTED: i64 = 50;
const DAY: i64 = 86_400;
/// New events the first page of a search verifies, beyond what the background check has:
/// a page's work stays a few milliseconds however far behind the check is.
pub const PAGE_CHECK: u64 = 1_000;
/// How long a page waits for a background check under way before reporting without it.
const PAGE_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The store's filter for what the RA asked (every value was parsed as the query was read;
/// a malformed one never gets here: `bad_filter`).
pub fn audit_filter(asked: AuditFilter) -> Filter {
    Filter {
        user: asked.user,
        card: asked.card.map(|guid| guid.to_hex()),
        action: asked.action.map(|action| action.text()),
        outcome: asked.outcome.map(|outcome| outcome.as_str().to_owned()),
        client: asked.client.map(|client| client.to_string()),
        from: asked.from,
        to: asked.to,
        before: asked.before,
    }
}

const CSV_HEADER: &str =
    "seq,time_utc,unix_time,actor,action,outcome,card_guid,user_uuid,client_addr,detail\r\n";

/// One CSV field: quoted, quotes doubled, and a leading `= + - @` defused so a
/// spreadsheet never runs a reason typed into the trail as a formula.
fn field(out: &mut String, value: &str) {
    out.push('"');
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

fn csv_line(out: &mut String, event: &Event) {
    out.push_str(&event.seq.to_string());
    out.push(',');
    field(out, &utc_date_time(event.at));
    out.push(',');
    out.push_str(&event.at.to_string());
    for value in [
        event.actor.as_str(),
        &event.action,
        &event.outcome,
        event.card_guid.as_deref().unwrap_or(""),
        event.user_uuid.as_deref().unwrap_or(""),
        event.client_addr.as_deref().unwrap_or(""),
        &event.detail,
    ] {
        out.push(',');
        field(out, value);
    }
    out.push_str("\r\n");
}

/// The export's body: the header, then the matching events newest first, one batch per
/// database read, each read only when the client has taken the one before.
pub fn csv_stream(state: AppState, filter: Filter) -> impl Stream<Item = Result<Bytes, AppError>> {
    let header = stream::once(async { Ok(Bytes::from_static(CSV_HEADER.as_bytes())) });
    let rows = stream::try_unfold(
        (state, filter, false),
        |(state, mut filter, finished)| async move {
            if finished {
                return Ok(None);
            }
            let mut conn = state.store.pool.acquire().await.map_err(StoreError::from)?;
            let batch = audit_search::page(&mut conn, &filter, CSV_BATCH).await?;
            drop(conn);
            let Some(last) = batch.last() else {
                return Ok(None);
            };
            filter.before = Some(last.seq);
            let mut chunk = String::new();
            for event in &batch {
                csv_line(&mut chunk, event);
            }
            let finished = (batch.len() as i64) < CSV_BATCH;
            Ok::<_, AppError>(Some((Bytes::from(chunk), (state, filter, finished))))
        },
    );
    header.chain(rows)
}

impl AppState {
    pub async fn ra_audit(
        &self,
        secret: Option<&FlowSecret>,
        filter: Filter,
        client: &Client,
    ) -> Result<AuditPage, AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let viewed = Outcome::new(VIEW_TRAIL, filter_subject(&filter))
            .by(ra.name())
            .detail(format!("{filter:?}"));
        let chain = match filter.before {
            Some(_) => None,
            None => Some(chain_state(self.page_check().await?)),
        };
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let per_page = i64::from(EVENTS_PER_PAGE);
        let events = audit_search::page(&mut conn, &filter, per_page).await?;
        drop(conn);
        let next_before = match events.last() {
            Some(last) if events.len() as i64 == per_page => Some(last.seq),
            _ => None,
        };
        self.record_view(viewed, client).await?;
        Ok(AuditPage {
            events: events
                .into_iter()
                .map(Event::into_record)
                .collect::<Result<_, _>>()?,
            next_before,
            chain,
        })
    }

    /// RA-4: the chains as the first page of a search reports them: checked over at most
    /// [`PAGE_CHECK`] new events — or over none, only the checkpoints re-checked, while
    /// the background check is at work (it is waited for only as long as a short one
    /// takes).
    async fn page_check(&self) -> Result<Checked, AppError> {
        let checking = tokio::time::timeout(PAGE_WAIT, self.audit_checking.lock()).await;
        let budget = if checking.is_ok() { PAGE_CHECK } else { 0 };
        let (checked, _) = self.check_audit(budget).await?;
        drop(checking);
        Ok(checked)
    }

    /// RA-4: the background check, run by the sweeper: every event since the last check.
    /// A broken trail is logged as an error each time it runs.
    pub async fn check_audit_trail(&self) -> Result<(Checked, Reads), AppError> {
        let _checking = self.audit_checking.lock().await;
        let (checked, reads) = self.check_audit(u64::MAX).await?;
        if let Checked::Broken { seq, chain, reason } = &checked {
            tracing::error!(?seq, chain, reason, "audit trail broken");
        }
        Ok((checked, reads))
    }

    /// Verifies the chains from their checkpoints over at most `budget` new events, a
    /// batch per read, moving the checkpoints over what held.
    async fn check_audit(&self, budget: u64) -> Result<(Checked, Reads), AppError> {
        let now = self.clock.now();
        Ok(audit_check::advance(&self.store.pool, &self.audit_key, now, budget).await?)
    }

    /// Checks the RA may export, and records the export with its filters.
    pub async fn ra_audit_export(
        &self,
        secret: Option<&FlowSecret>,
        filter: &Filter,
        client: &Client,
    ) -> Result<(), AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let (now, tx) = self.open().await?;
        let outcome = Outcome::new(EXPORT, filter_subject(filter))
            .by(ra.name())
            .detail(format!("{filter:?}"))
            .ok("ok", ());
        self.finish(tx, now, client, outcome).await
    }

    pub async fn ra_reports(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<ReportList, AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let reports = open_reports(&mut conn, 200).await?;
        drop(conn);
        let viewed = Outcome::new(VIEW_REPORTS, Subject::anonymous()).by(ra.name());
        self.record_view(viewed, client).await?;
        Ok(ReportList { reports })
    }

    /// RA-4: what an RA read is in the trail, written once the read has been made (so a
    /// page never lists its own reading) and before anything is returned.
    async fn record_view(&self, viewed: Outcome<()>, client: &Client) -> Result<(), AppError> {
        let (now, tx) = self.open().await?;
        self.finish(tx, now, client, viewed.ok("ok", ())).await
    }

    pub async fn ra_dashboard(
        &self,
        secret: Option<&FlowSecret>,
        client: &Client,
    ) -> Result<Dashboard, AppError> {
        let ra = self.ra_actor(secret, client, Needs::Agent).await?;
        let now = self.clock.now();
        let mut conn = self.store.pool.acquire().await.map_err(StoreError::from)?;
        let unverified = ra::unregistered(&mut conn, LISTED).await?;
        let expiring = ra::expiring(&mut conn, now, now + 30 * DAY, LISTED).await?;
        let lockouts = ra::repeat_lockouts(&mut conn, now - 30 * DAY, 2, LISTED).await?;
        let open_reports = open_reports(&mut conn, LISTED).await?;
        drop(conn);
        let viewed = Outcome::new(VIEW_DASHBOARD, Subject::anonymous()).by(ra.name());
        self.record_view(viewed, client).await?;
        Ok(Dashboard {
            unverified_email: unverified
                .into_iter()
                .map(summary)
                .collect::<Result<_, _>>()?,
            expiring_certificates: expiring
                .into_iter()
                .map(|row| {
                    Ok(Expiring {
                        card_guid: CardGuid::parse(&row.card_guid).map_err(|_| {
                            StoreError::Corrupt {
                                table: "cards",
                                column: "guid",
                            }
                        })?,
                        expires_at: row.expires_at,
                        user: summary(row.user)?,
                    })
                })
                .collect::<Result<_, AppError>>()?,
            repeat_lockouts: lockouts
                .into_iter()
                .map(|row| {
                    Ok(Lockouts {
                        lockouts: u32::try_from(row.lockouts).unwrap_or(u32::MAX),
                        user: summary(row.user)?,
                    })
                })
                .collect::<Result<_, AppError>>()?,
            open_reports,
        })
    }
}

/// A search about one user is recorded against them (they see it on "My card").
fn filter_subject(filter: &Filter) -> Subject {
    match &filter.user {
        Some(uuid) => Subject::user(uuid),
        None => Subject::anonymous(),
    }
}

fn chain_state(checked: Checked) -> ChainState {
    match checked {
        Checked::UpTo {
            verified,
            unchecked,
        } => ChainState::Intact {
            rows: verified,
            unchecked,
        },
        Checked::Broken { seq, chain, reason } => ChainState::Broken {
            seq,
            chain,
            reason: reason.to_owned(),
        },
    }
}

async fn open_reports(conn: &mut sqlx::AnyConnection, limit: i64) -> Result<Vec<Report>, AppError> {
    not_me::open_reports_listed(conn, limit)
        .await?
        .into_iter()
        .map(|report| {
            Ok(Report {
                id: ReportId::of_hash(&report.token_hash.as_slice().try_into().map_err(|_| {
                    StoreError::Corrupt {
                        table: "not_me_links",
                        column: "token_hash",
                    }
                })?),
                notice: report.notice,
                reported_at: report.reported_at,
                user: summary(report.user)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_4_csv_fields_are_quoted_and_never_formulas() {
        let mut out = String::new();
        field(&mut out, "=HYPERLINK(\"x\")");
        assert_eq!(out, "\"'=HYPERLINK(\"\"x\"\")\"");
        let mut plain = String::new();
        field(&mut plain, "a,b");
        assert_eq!(plain, "\"a,b\"");
    }
}
