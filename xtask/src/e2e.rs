//! The browser tests (ALL-3, BRG-7), the way a user meets the product: the page over
//! HTTPS and the card bridge over HTTPS/WSS, both with this computer's own CA, in three
//! engines — Chromium through Playwright (`end2end/tests`), Firefox ESR (geckodriver)
//! and WebKitGTK, Safari's engine (WebKitWebDriver under Xvfb), through W3C WebDriver
//! (`end2end/webdriver`). The server runs here; the tests plug cards in and run the
//! bridge themselves, so they can pull a card or stop the bridge.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::fleet;
use crate::local_tls::{self, LocalTls};
use crate::procs::{run, wait_for_port, Service};
use crate::{
    bin, grant_public_key, seed_demo, server_command, server_env, start_platform, Web,
    E2E_BRIDGE_PORT, E2E_NHS_2023_PORT, E2E_SERVER_PORT, MAILDEV_WEB_PORT, NOTIFY_PORT, VPCD_ADDR,
    VPCD_READER,
};

/// OPS-6: the browser tests' PostgreSQL database and how many instances share it.
const E2E_DATABASE: &str = "scss_e2e";
const E2E_INSTANCES: u16 = 3;

pub fn e2e(root: &Path) -> Result<()> {
    let run_dir = root.join(".run/e2e");
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(&run_dir)?;
    let mut services = start_platform(root, &run_dir)?;
    e2e_with(root, &run_dir, &mut services)
}

pub fn e2e_with(root: &Path, run_dir: &Path, services: &mut Vec<Service>) -> Result<()> {
    // The browsers' home: Chromium's NSS database and a Firefox profile live here, so the
    // CA is trusted for these tests and not for the machine's own user.
    let home = run_dir.join("home");
    let firefox_profile = local_tls::firefox_profile(&home)?;
    let tls = LocalTls::install(bin(root, "card-bridge"), &run_dir.join("tls"), &home)?;
    // OPS-6: the page is served by three instances on PostgreSQL behind HAProxy, which
    // sends each request to the next one: every flow below crosses instances at each step.
    let database = fleet::fresh_database(root, E2E_DATABASE)?;
    let web = Web {
        port: E2E_SERVER_PORT,
        bridge_port: E2E_BRIDGE_PORT,
        tls: Some(&tls),
        database_url: Some(&database),
    };
    fleet::migrate(root, run_dir, web, E2E_DATABASE)?;

    let cards = run_dir.join("cards");
    seed_demo(root, run_dir, web, &cards)?;
    // Every browser test calls from 127.0.0.1, mostly with John's card, within a few
    // minutes: the default limits (ALL-5, proven by the API tests) would refuse the later
    // engines' unlocks.
    let generous_limits = |server: &mut Command| {
        server
            .env("SCSS_RATE_LIMIT_PER_CLIENT", "2000")
            .env("SCSS_RATE_LIMIT_PER_CARD", "200");
    };
    services.extend(fleet::start(
        root,
        run_dir,
        web,
        E2E_INSTANCES,
        generous_limits,
    )?);
    // POL-3: the NHS's 2023 unlock, from a second server of the same service (its
    // database, keys and mail) run under `nhs-2023`.
    let nhs_2023 = Web {
        port: E2E_NHS_2023_PORT,
        ..web
    };
    let mut second = server_command(root, run_dir, nhs_2023);
    second
        .env("SCSS_POLICY", "nhs-2023")
        // The first server runs the reminders (JOB-1): from this one they would carry its
        // own origin and the 2023 profile's words, and win the day's claim at random.
        .env("SCSS_JOBS_INTERVAL_SECS", "86400");
    generous_limits(&mut second);
    services.push(Service::start("server-nhs-2023", &mut second, run_dir)?);
    wait_for_port(E2E_NHS_2023_PORT, Duration::from_secs(30))?;

    // The tests reseed through seed-demo, so they get the server's settings too.
    let mut probe = Command::new("true");
    server_env(&mut probe, root, run_dir, web);
    let mut test_env: Vec<(String, String)> = probe
        .get_envs()
        .filter_map(|(key, value)| Some((key.to_str()?.to_owned(), value?.to_str()?.to_owned())))
        .collect();
    let tmp = run_dir.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    let path = |p: &Path| p.to_string_lossy().into_owned();
    test_env.extend(
        [
            ("HOME", path(&home)),
            ("TMPDIR", path(&tmp)),
            // Node's own fetch (mail catcher aside) reaches the HTTPS server too.
            ("NODE_EXTRA_CA_CERTS", path(&tls.ca_file())),
            ("E2E_BASE_URL", web.origin()),
            ("E2E_NHS2023_URL", nhs_2023.origin()),
            ("E2E_NOTIFY_URL", format!("http://127.0.0.1:{NOTIFY_PORT}")),
            ("E2E_BRIDGE_PORT", E2E_BRIDGE_PORT.to_string()),
            ("E2E_BRIDGE_TLS_DIR", path(tls.dir())),
            (
                "CARD_BRIDGE_SERVER_KEY",
                grant_public_key(root, run_dir, web)?,
            ),
            (
                "E2E_MAILDEV_URL",
                format!("http://127.0.0.1:{MAILDEV_WEB_PORT}"),
            ),
            ("E2E_VPCD_ADDR", VPCD_ADDR.to_owned()),
            ("E2E_VPCD_READER", VPCD_READER.to_owned()),
            ("E2E_CARDS_DIR", path(&cards)),
            ("E2E_RUN_DIR", path(run_dir)),
            ("E2E_DATABASE_URL", database.clone()),
            // The leak test reads every row: the owner may; the service role not all.
            ("E2E_DATABASE_OWNER_URL", fleet::owner_url(E2E_DATABASE)),
            ("E2E_BIN_DIR", path(&root.join("target/debug"))),
            ("E2E_POLICIES_DIR", path(&root.join("deploy/policies"))),
            ("E2E_FIREFOX_PROFILE", path(&firefox_profile)),
            (
                "E2E_GECKODRIVER",
                path(&root.join(".tools/bin/geckodriver")),
            ),
        ]
        .map(|(key, value)| (key.to_owned(), value)),
    );

    // E2E_SUITES=webdriver (or chromium) runs one suite while working on it.
    let suites = std::env::var("E2E_SUITES").unwrap_or_else(|_| "chromium,webdriver".into());
    let wanted = |suite: &str| suites.split(',').any(|s| s == suite);
    let end2end = root.join("end2end");
    let skipped = || {
        eprintln!("xtask: skipped by E2E_SUITES");
        Ok(())
    };
    let chromium = if !wanted("chromium") {
        skipped()
    } else {
        // E2E_GREP narrows Chromium to the tests whose titles match, while working.
        let grep = std::env::var("E2E_GREP").ok();
        run(Command::new(end2end.join("node_modules/.bin/playwright"))
            .arg("test")
            .args(grep.iter().flat_map(|grep| ["--grep", grep.as_str()]))
            .current_dir(&end2end)
            .envs(test_env.clone()))
    };
    // Firefox runs headless; WebKitGTK needs a display, so both run under Xvfb.
    let webdriver = if !wanted("webdriver") {
        skipped()
    } else {
        run(Command::new("xvfb-run")
            .args(["-a", "--server-args=-screen 0 1280x1024x24"])
            .args(["node", "--test", "--test-concurrency=1"])
            .args([
                "webdriver/unlock.test.js",
                "webdriver/renew.test.js",
                "webdriver/passcodes.test.js",
                "webdriver/scsc.test.js",
            ])
            .current_dir(&end2end)
            .envs(test_env))
    };
    drop(tls);
    match (chromium, webdriver) {
        (Ok(()), Ok(())) => Ok(()),
        (chromium, webdriver) => {
            for (engines, result) in [
                ("Chromium (Playwright)", chromium),
                ("Firefox ESR and WebKitGTK (WebDriver)", webdriver),
            ] {
                if let Err(error) = result {
                    eprintln!("xtask: the browser tests in {engines} failed: {error:#}");
                }
            }
            bail!("browser tests failed")
        }
    }
}
