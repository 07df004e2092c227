//! OPS-6 on this computer: several server instances sharing one PostgreSQL database behind
//! HAProxy, as `deploy/` describes for production — the database made with
//! `deploy/postgres/create.sql`, migrated by the owner role and granted by
//! `deploy/postgres/grants.sql`, the instances connecting as
//! the service role (which may not change the schema nor edit the audit trail), TLS ending
//! at HAProxy, and every request sent to the next instance in turn.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::procs::{run, wait_for_port, Service};
use crate::{bin, server_command, server_env, Web};

const OWNER: &str = "scss_owner";
const APP: &str = "scss_app";
const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh database `name` and its roles, made by `deploy/postgres/create.sql`; returns
/// the service role's URL. The schema is the owner's to make: see [`migrate`].
pub fn fresh_database(root: &Path, name: &str) -> Result<String> {
    crate::procs::ensure_postgres()?;
    run(Command::new("psql")
        .args([PG_ADMIN, "-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))?;
    run(Command::new("psql")
        .args([PG_ADMIN, "-q", "-v", "ON_ERROR_STOP=1"])
        .args(["-v", &format!("owner={OWNER}")])
        .args(["-v", &format!("app={APP}")])
        .args(["-v", &format!("db={name}")])
        .arg("-f")
        .arg(root.join("deploy/postgres/create.sql")))?;
    Ok(format!("postgres://{APP}@127.0.0.1:5432/{name}"))
}

/// The owner role's URL of database `name`: what migrates, and reads every row.
pub fn owner_url(name: &str) -> String {
    format!("postgres://{OWNER}@127.0.0.1:5432/{name}")
}

/// `smartcard-server migrate` as the owner, then the service role's grants on what it
/// made (`deploy/postgres/grants.sql`, as the owner).
pub fn migrate(root: &Path, run_dir: &Path, web: Web, name: &str) -> Result<()> {
    let owner_url = owner_url(name);
    let mut migrate = Command::new(bin(root, "smartcard-server"));
    migrate.arg("migrate");
    server_env(&mut migrate, root, run_dir, web);
    migrate
        .env("SCSS_DATABASE_URL", &owner_url)
        .env("SCSS_MIGRATE_ON_START", "true");
    run(&mut migrate)?;
    run(Command::new("psql")
        .args([owner_url.as_str(), "-q", "-v", "ON_ERROR_STOP=1"])
        .args(["-v", &format!("app={APP}")])
        .arg("-f")
        .arg(root.join("deploy/postgres/grants.sql")))
}

/// The instances' ports: the page's port + 10, + 11, …; their metrics on 9100 + n.
pub fn instance_port(web: Web, n: u16) -> u16 {
    web.port + 10 + n
}

/// `count` instances of the server for `web`, plain HTTP on loopback behind HAProxy on
/// `web`'s port (HTTPS there when `web` is). `tweak` adds settings to every instance.
pub fn start(
    root: &Path,
    run_dir: &Path,
    web: Web,
    count: u16,
    tweak: impl Fn(&mut Command),
) -> Result<Vec<Service>> {
    let mut services = Vec::new();
    for n in 0..count {
        let mut server = server_command(root, run_dir, web);
        server
            .env(
                "SCSS_LISTEN",
                format!("127.0.0.1:{}", instance_port(web, n)),
            )
            .env("SCSS_METRICS_LISTEN", format!("127.0.0.1:{}", 9100 + n))
            .env("SCSS_TRUSTED_PROXIES", "127.0.0.1")
            .env("SCSS_LOG_FORMAT", "json")
            .env_remove("SCSS_TLS_CERT_FILE")
            .env_remove("SCSS_TLS_KEY_FILE");
        tweak(&mut server);
        services.push(Service::start(
            &format!("server-{}", n + 1),
            &mut server,
            run_dir,
        )?);
    }
    for n in 0..count {
        wait_for_port(instance_port(web, n), Duration::from_secs(30))?;
    }
    let config = run_dir.join("haproxy.cfg");
    std::fs::write(&config, haproxy_config(run_dir, web, count)?)?;
    run(Command::new("haproxy")
        .arg("-c")
        .arg("-q")
        .arg("-f")
        .arg(&config))
    .context("HAProxy refused its configuration")?;
    services.push(Service::start(
        "haproxy",
        Command::new("haproxy").arg("-db").arg("-f").arg(&config),
        run_dir,
    )?);
    wait_for_port(web.port, Duration::from_secs(20))?;
    Ok(services)
}

/// deploy/haproxy/haproxy.cfg's health check: out only for what is this instance's own
/// (draining, database, schema), not for a queue every instance shares.
const READY: &str =
    r#"http-check expect rstring "\"draining\":false,\"database\":\"ok\",\"schema\":\"ok\"""#;

/// deploy/haproxy/haproxy.cfg's arrangement, on loopback.
fn haproxy_config(run_dir: &Path, web: Web, count: u16) -> Result<String> {
    let bind = match web.tls {
        Some(tls) => {
            // HAProxy takes the chain and its key in one file.
            let pem: PathBuf = run_dir.join("haproxy.pem");
            let chain = std::fs::read_to_string(tls.cert_file())?;
            let key = std::fs::read_to_string(tls.key_file())?;
            std::fs::write(&pem, format!("{chain}\n{key}"))?;
            format!(
                "bind 127.0.0.1:{} ssl crt {} alpn http/1.1",
                web.port,
                pem.display()
            )
        }
        None => format!("bind 127.0.0.1:{}", web.port),
    };
    let servers: String = (0..count)
        .map(|n| {
            format!(
                "    server instance{} 127.0.0.1:{}\n",
                n + 1,
                instance_port(web, n)
            )
        })
        .collect();
    Ok(format!(
        "global\n\
         \x20   log stdout format raw local0\n\
         \x20   maxconn 4000\n\
         defaults\n\
         \x20   mode http\n\
         \x20   log global\n\
         \x20   option httplog\n\
         \x20   timeout connect 2s\n\
         \x20   timeout client 60s\n\
         \x20   timeout server 60s\n\
         \x20   timeout http-request 10s\n\
         \x20   retry-on conn-failure\n\
         \x20   retries 2\n\
         \x20   option redispatch 1\n\
         frontend selfservice\n\
         \x20   {bind}\n\
         \x20   option forwardfor\n\
         \x20   default_backend instances\n\
         backend instances\n\
         \x20   balance roundrobin\n\
         \x20   option httpchk GET /readyz\n\
         \x20   {READY}\n\
         \x20   default-server check inter 1s fall 2 rise 2\n\
         {servers}"
    ))
}
