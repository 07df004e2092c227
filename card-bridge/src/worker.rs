//! One thread owns the card access; every operation is a job run there in turn, so two
//! card transactions can never interleave (BRG-6), and a stuck card cannot block the
//! async runtime. Callers wait with a timeout, so a hung card is an error, not a hang
//! (BRG-4).

use std::time::Duration;

use api_types::bridge::ReaderInfo;
use card_protocol::client::{CardTransport, TransportError};
use tokio::sync::{mpsc, oneshot};

use crate::BridgeError;

/// How long one card operation may take before the page is told the card is busy.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// What a backend offers the worker thread.
pub trait CardAccess: Send + 'static {
    /// `"pcsc"` or `"simulated"`.
    fn backend_name(&self) -> &'static str;
    fn readers(&mut self) -> Result<Vec<ReaderInfo>, BridgeError>;
    /// Runs `operation` against the first card present, inside one exclusive card
    /// transaction. The reader's name is passed along.
    fn with_card(
        &mut self,
        operation: &mut dyn FnMut(&str, &mut dyn CardTransport) -> Result<(), BridgeError>,
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
}

impl CardWorker {
    pub fn spawn(mut access: Box<dyn CardAccess>) -> std::io::Result<Self> {
        let backend_name = access.backend_name();
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("card-worker".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    job(access.as_mut());
                }
            })?;
        Ok(Self { jobs, backend_name })
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend_name
    }

    /// Runs `job` on the card thread and waits for its answer, at most [`OPERATION_TIMEOUT`].
    pub async fn run<R, F>(&self, job: F) -> Result<R, BridgeError>
    where
        R: Send + 'static,
        F: FnOnce(&mut dyn CardAccess) -> Result<R, BridgeError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |access| {
                // The caller may have timed out and gone; nothing to do then.
                let _ = reply.send(job(access));
            }))
            .map_err(|_| BridgeError::Internal("card worker stopped".into()))?;
        match tokio::time::timeout(OPERATION_TIMEOUT, answer).await {
            Err(_elapsed) => Err(BridgeError::CardBusy),
            Ok(Err(_dropped)) => Err(BridgeError::Internal("card worker dropped a job".into())),
            Ok(Ok(result)) => result,
        }
    }

    /// Convenience: run `operation` on the first card present and return its value.
    pub async fn with_card<R, F>(&self, mut operation: F) -> Result<R, BridgeError>
    where
        R: Send + 'static,
        F: FnMut(&str, &mut dyn CardTransport) -> Result<R, BridgeError> + Send + 'static,
    {
        self.run(move |access| {
            let mut output = None;
            access.with_card(&mut |reader, transport| {
                output = Some(operation(reader, transport)?);
                Ok(())
            })?;
            output.ok_or_else(|| BridgeError::Internal("card operation produced nothing".into()))
        })
        .await
    }
}
