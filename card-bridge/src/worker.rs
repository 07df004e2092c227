//! One thread owns the card access; every operation is a job run there in turn, so two
//! card transactions can never interleave (BRG-6), and a stuck card cannot block the
//! async runtime. Callers wait with a timeout, so a hung card is an error, not a hang
//! (BRG-4); a job whose caller has given up (timed out, or gone) is dropped unrun, so a
//! late card operation never happens behind the page's back.
//!
//! A job sees the card as a [`CardInReader`]: its transport inside one transaction, and
//! its [`Presence`] — which reader, and that reader's insertion/removal count — learned
//! without sending the card anything (BRG-5: a sealed relay checks the card through it,
//! since a plain command would end the secure channel). Each job says how the card is
//! left afterwards ([`Leave`]): as it is (a secure channel survives to the next relay),
//! or reset, so a verified PIN does not stay verified (BRG-6).

use std::time::{Duration, Instant};

use api_types::bridge::ReaderInfo;
use card_protocol::client::{CardTransport, TransportError};
use tokio::sync::{mpsc, oneshot};

use crate::BridgeError;

/// How long one card operation may take before the page is told the card is busy.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// The card in a reader, as far as the reader can tell without talking to it: equal
/// values mean the card has not left the reader in between.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Presence {
    pub reader: String,
    /// The reader's count of insertions and removals (PC/SC's event counter).
    pub events: u64,
}

/// How a job leaves the card when its transaction ends (also when the job failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    /// As it is: an open secure channel survives to the next relay.
    AsIs,
    /// Reset (warm reset, PC/SC `SCARD_RESET_CARD`): nothing stays verified (BRG-6).
    Reset,
}

/// What a job gets: the card, inside one exclusive transaction.
pub struct CardInReader<'a> {
    /// Read inside the transaction, before the job runs.
    pub presence: Presence,
    pub transport: &'a mut dyn CardTransport,
}

/// What a backend offers the worker thread.
pub trait CardAccess: Send + 'static {
    /// `"pcsc"` or `"simulated"`.
    fn backend_name(&self) -> &'static str;
    fn readers(&mut self) -> Result<Vec<ReaderInfo>, BridgeError>;
    /// Runs `operation` against the first card present, inside one exclusive card
    /// transaction, then leaves the card as `leave` says.
    fn with_card(
        &mut self,
        leave: Leave,
        operation: &mut dyn FnMut(CardInReader<'_>) -> Result<(), BridgeError>,
    ) -> Result<(), BridgeError>;
}

/// Lets a `&mut dyn CardTransport` be used where a `CardTransport` value is wanted.
pub struct DynTransport<'a>(pub &'a mut dyn CardTransport);

impl CardTransport for DynTransport<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.0.transmit(command)
    }
}

type Job = Box<dyn FnOnce(&mut dyn CardAccess) + Send>;

/// Handle to the card thread. Cheap to clone.
#[derive(Clone)]
pub struct CardWorker {
    jobs: mpsc::UnboundedSender<Job>,
    backend_name: &'static str,
    timeout: Duration,
}

impl CardWorker {
    pub fn spawn(access: Box<dyn CardAccess>) -> std::io::Result<Self> {
        Self::spawn_with_timeout(access, OPERATION_TIMEOUT)
    }

    /// With another operation timeout (tests).
    pub fn spawn_with_timeout(
        mut access: Box<dyn CardAccess>,
        timeout: Duration,
    ) -> std::io::Result<Self> {
        let backend_name = access.backend_name();
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("card-worker".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    job(access.as_mut());
                }
            })?;
        Ok(Self {
            jobs,
            backend_name,
            timeout,
        })
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend_name
    }

    /// Runs `job` on the card thread and waits for its answer until its deadline (now +
    /// the operation timeout). A job still queued when its caller has stopped waiting —
    /// deadline passed, or the request dropped — is skipped: it never touches the card.
    pub async fn run<R, F>(&self, job: F) -> Result<R, BridgeError>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn CardAccess) -> Result<R, BridgeError> + Send + 'static,
    {
        let deadline = Instant::now() + self.timeout;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |access| {
                if reply.is_closed() || Instant::now() >= deadline {
                    tracing::info!("card job cancelled: its caller stopped waiting");
                    return;
                }
                // The caller may still go in the meantime; nothing to do then.
                let _ = reply.send(job(access));
            }))
            .map_err(|_| BridgeError::Internal("card worker stopped".into()))?;
        match tokio::time::timeout_at(deadline.into(), answer).await {
            // Timed out, or skipped at its deadline just before the caller noticed.
            Err(_) | Ok(Err(_)) => Err(BridgeError::CardBusy),
            Ok(Ok(result)) => result,
        }
    }

    /// Convenience: run `operation` on the first card present, leave the card as `leave`
    /// says, and return the operation's value.
    pub async fn with_card<R, F>(&self, leave: Leave, mut operation: F) -> Result<R, BridgeError>
    where
        R: Send + 'static,
        F: FnMut(CardInReader<'_>) -> Result<R, BridgeError> + Send + 'static,
    {
        self.run(move |access| {
            let mut output = None;
            access.with_card(leave, &mut |card| {
                output = Some(operation(card)?);
                Ok(())
            })?;
            output.ok_or_else(|| BridgeError::Internal("card operation produced nothing".into()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A backend that only counts how often a job reached the card.
    struct Counting(Arc<AtomicUsize>);

    struct Silent;

    impl CardTransport for Silent {
        fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, TransportError> {
            Ok(vec![0x90, 0x00])
        }
    }

    impl CardAccess for Counting {
        fn backend_name(&self) -> &'static str {
            "counting"
        }

        fn readers(&mut self) -> Result<Vec<ReaderInfo>, BridgeError> {
            Ok(Vec::new())
        }

        fn with_card(
            &mut self,
            _leave: Leave,
            operation: &mut dyn FnMut(CardInReader<'_>) -> Result<(), BridgeError>,
        ) -> Result<(), BridgeError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            operation(CardInReader {
                presence: Presence {
                    reader: "counting".into(),
                    events: 0,
                },
                transport: &mut Silent,
            })
        }
    }

    fn worker(timeout: Duration) -> (CardWorker, Arc<AtomicUsize>) {
        let touched = Arc::new(AtomicUsize::new(0));
        let worker =
            CardWorker::spawn_with_timeout(Box::new(Counting(touched.clone())), timeout).unwrap();
        (worker, touched)
    }

    #[tokio::test]
    async fn brg_6_a_job_whose_caller_timed_out_never_touches_the_card() {
        let (worker, touched) = worker(Duration::from_millis(100));
        let slow = worker.run(|_| {
            std::thread::sleep(Duration::from_millis(400));
            Ok(())
        });
        let queued = worker.with_card(Leave::AsIs, |_| Ok(()));
        let (slow, queued) = tokio::join!(slow, queued);
        assert!(matches!(slow, Err(BridgeError::CardBusy)));
        assert!(matches!(queued, Err(BridgeError::CardBusy)));
        // Let the worker get past the slow job and reach the queued one.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(touched.load(Ordering::SeqCst), 0, "the late job ran");
        // The worker still serves new callers.
        let fresh = CardWorker {
            timeout: Duration::from_secs(5),
            ..worker
        };
        fresh.with_card(Leave::AsIs, |_| Ok(())).await.unwrap();
        assert_eq!(touched.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn brg_6_a_job_whose_caller_went_away_never_touches_the_card() {
        let (worker, touched) = worker(Duration::from_secs(5));
        let slow = {
            let worker = worker.clone();
            tokio::spawn(async move {
                worker
                    .run(|_| {
                        std::thread::sleep(Duration::from_millis(300));
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The page disconnects while its job waits behind the slow one.
        let gone = {
            let worker = worker.clone();
            tokio::spawn(async move { worker.with_card(Leave::Reset, |_| Ok(())).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        gone.abort();
        slow.await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(touched.load(Ordering::SeqCst), 0, "the abandoned job ran");
    }
}
