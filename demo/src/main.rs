//! `seed-demo`: (re)creates the demo users, their virtual card files (John Rigby's card
//! locked) and security answers in the database the server's settings name, and prints
//! them as JSON for the newcomer and the browser tests.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use server::{AppState, Clock, Settings, SystemClock, TestClock};

#[derive(Parser)]
#[command(about = "Create the Smartcard Self-Service demo users and their virtual cards")]
struct Args {
    /// TOML settings file; SCSS_* environment variables override it (as for the server).
    #[arg(long, env = "SCSS_CONFIG")]
    config: Option<PathBuf>,
    /// Where the virtual card state files are written.
    #[arg(long)]
    cards_dir: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seed-demo: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = Args::parse();
    let settings = Settings::load(args.config.as_deref()).context("loading settings")?;
    let clock = Arc::new(TestClock::new(SystemClock.now()));
    let state = AppState::new(settings, clock.clone()).await?;
    let users = demo::seed(&state, &clock, &args.cards_dir).await?;
    println!("{}", serde_json::to_string_pretty(&users)?);
    Ok(())
}
