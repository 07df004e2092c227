//! Performance and fault instruments (`cargo xtask bench`, `load`, `chaos`): what they
//! share — the databases they make, the release server as a child process and a fleet of
//! them behind HAProxy, virtual-card users enrolled straight into the store, whole flows
//! over HTTP with an SMTP sink for their codes, CPU and argon2id measurements.

pub mod argon2;
pub mod backend;
pub mod consistency;
pub mod cpu;
pub mod crowd;
pub mod fleet;
pub mod flows;
pub mod mail_sink;
pub mod pgbench;
pub mod process;
pub mod unlock;

/// An instrument's `main`: `work` on a tokio runtime; its error printed after `name`.
pub fn run_main<F>(name: &str, work: F) -> std::process::ExitCode
where
    F: std::future::Future<Output = anyhow::Result<()>>,
{
    let outcome = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(work));
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
