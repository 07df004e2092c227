//! The results: one row per run with its bound, where the CPU went, and the last line
//! (`unlock answers: sqlite X.XX of argon2 bound, postgres Y.YY of argon2 bound`).

use std::time::Duration;

use crate::Run;
use bench::backend::Backend;

/// A run's bound in answers steps/s: the mean of the argon2id rates measured right
/// before and right after it, over the verifies per step.
pub fn bound(run: &Run, questions: u32) -> f64 {
    (run.before.verifies_per_sec + run.after.verifies_per_sec) / 2.0 / f64::from(questions)
}

pub fn ratio(run: &Run, questions: u32) -> f64 {
    run.result.steps_per_sec() / bound(run, questions)
}

fn pct(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

pub fn print(runs: &[Run], questions: u32, concurrency: usize) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:<9} {:>11} {:>6} {:>8} {:>7} {:>6} {:>6} {:>7} {:>7}",
        "backend", "concurrency", "steps", "steps/s", "bound", "drift", "ratio", "p50 ms", "p90 ms"
    );
    for run in runs {
        let drift = run.after.verifies_per_sec / run.before.verifies_per_sec - 1.0;
        println!(
            "{:<9} {:>11} {:>6} {:>8.2} {:>7.2} {:>6} {:>6.2} {:>7.0} {:>7.0}",
            run.backend.name(),
            run.concurrency,
            run.result.steps,
            run.result.steps_per_sec(),
            bound(run, questions),
            format!("{:+.0}%", drift * 100.0),
            ratio(run, questions),
            ms(run.result.percentile(0.5)),
            ms(run.result.percentile(0.9)),
        );
    }
    println!(
        "bound: argon2id verifies/s on all cores / {questions} questions, measured before and \
         after each run (drift: after vs before; over ±15% the machine's speed moved and that \
         ratio is uncertain). Target: ratio ≥ 0.80 at concurrency {concurrency}."
    );
    print_cpu(runs);
}

/// Where the cores went during each timed run: a busy "other" means the machine was
/// shared and the run's numbers are not the server's alone.
fn print_cpu(runs: &[Run]) {
    if runs.iter().all(|run| run.cpu.is_none()) {
        return;
    }
    println!("cpu during the timed steps, as shares of all cores:");
    println!(
        "{:<9} {:>11} {:>7} {:>9} {:>6} {:>6} {:>6} {:>15}",
        "backend", "concurrency", "server", "postgres", "bench", "other", "idle", "server ms/step"
    );
    for run in runs {
        let Some(cpu) = run.cpu else { continue };
        println!(
            "{:<9} {:>11} {:>7} {:>9} {:>6} {:>6} {:>6} {:>15.0}",
            run.backend.name(),
            run.concurrency,
            pct(cpu.server),
            pct(cpu.postgres),
            pct(cpu.bench),
            pct(cpu.other),
            pct(cpu.idle),
            cpu.server_ms_per_step,
        );
    }
}

/// The last line: each backend's concurrent run as a share of its bound.
pub fn print_last_line(runs: &[Run], questions: u32, concurrency: usize) {
    let share = |backend: Backend| {
        runs.iter()
            .find(|run| run.backend == backend && run.concurrency == concurrency)
            .map(|run| format!("{:.2} of argon2 bound", ratio(run, questions)))
            .unwrap_or_else(|| "not measured".into())
    };
    println!(
        "unlock answers: sqlite {}, postgres {}",
        share(Backend::Sqlite),
        share(Backend::Postgres)
    );
}
