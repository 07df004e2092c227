//! `notify-standin`: GOV.UK Notify's v2 API on this computer, for the demo and the tests
//! (SMS-2). Prints `notify-standin listening on http://ADDR` once it listens, so a
//! caller that asked for port 0 learns the port.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use notify_standin::auth::ApiKey;
use notify_standin::templates::Templates;
use notify_standin::Standin;

#[derive(Parser)]
#[command(about = "A local stand-in for GOV.UK Notify's v2 API")]
struct Args {
    /// Where to listen (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:9982")]
    listen: SocketAddr,
    /// An API key the service may use, `{key name}-{service id}-{secret}`; repeatable.
    #[arg(
        long = "api-key",
        env = "NOTIFY_STANDIN_API_KEYS",
        value_delimiter = ',',
        required = true,
        hide_env_values = true
    )]
    api_keys: Vec<String>,
    /// The service's templates: TOML, `[[template]]` with id, type (sms or email), name,
    /// subject (email only) and body.
    #[arg(long)]
    templates: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let keys = args
        .api_keys
        .iter()
        .enumerate()
        // Never the key itself in the message: it holds the secret.
        .map(|(i, key)| {
            ApiKey::parse(key.trim()).map_err(|e| anyhow::anyhow!("API key {}: {e}", i + 1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let text = std::fs::read_to_string(&args.templates)
        .with_context(|| format!("cannot read {}", args.templates.display()))?;
    let templates = Templates::parse(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.templates.display()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "notify-standin listening on http://{addr}")?;
    stdout.flush()?;
    notify_standin::serve(Standin::new(keys, templates), listener).await?;
    Ok(())
}
