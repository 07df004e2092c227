//! `cargo xtask demo [--https] [--scale N]`: the whole product on this computer — pcscd
//! with John Rigby's virtual card in vpcd's reader, the card bridge, the server (or N of
//! them on PostgreSQL behind HAProxy, OPS-6), the mail catcher and the Notify stand-in —
//! until Ctrl-C.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::local_tls::LocalTls;
use crate::procs::{self, wait_for_port, Service};
use crate::{
    bin, build, card, card_bridge_command, fleet, johns_card_inserted, seed_demo, server_command,
    setup, start_platform, Web, BRIDGE_PORT, MAILDEV_WEB_PORT, NOTIFY_PORT, SERVER_PORT,
    VPCD_READER,
};

pub fn demo(root: &Path, args: &[String]) -> Result<()> {
    let https = args.iter().any(|a| a == "--https");
    // OPS-6: --scale N runs N instances on PostgreSQL behind HAProxy.
    let scale: u16 = match args.iter().position(|a| a == "--scale") {
        Some(at) => args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .filter(|n| (1..=9).contains(n))
            .context("--scale takes a number of instances, 1 to 9")?,
        None => 1,
    };
    setup::all(root)?;
    build(root)?;
    let run_dir = root.join(".run/demo");
    std::fs::create_dir_all(&run_dir)?;
    let cards = run_dir.join("cards");
    let mut services = start_platform(root, &run_dir)?;
    // --https: this computer's own CA, trusted for the user running the demo (ALL-3, BRG-7).
    let tls = if https {
        let home = std::env::var_os("HOME").context("HOME is not set")?;
        Some(LocalTls::install(
            bin(root, "card-bridge"),
            &run_dir.join("tls"),
            Path::new(&home),
        )?)
    } else {
        None
    };
    let database = if scale > 1 {
        Some(fleet::fresh_database(root, "scss_demo")?)
    } else {
        None
    };
    let web = Web {
        port: SERVER_PORT,
        bridge_port: BRIDGE_PORT,
        tls: tls.as_ref(),
        database_url: database.as_deref(),
    };
    if database.is_some() {
        fleet::migrate(root, &run_dir, web, "scss_demo")?;
    }

    seed_demo(root, &run_dir, web, &cards)?;

    card::take_out(&run_dir)?;
    let john = johns_card_inserted(root, &cards, &run_dir)?;
    std::fs::write(card::pid_file(&run_dir), john.pid().to_string())?;
    services.push(john.removable());
    let mut bridge = card_bridge_command(root, &run_dir, web)?;
    // `trunk serve` (README, "Working on the SPA") serves the page from :8081.
    bridge.args(["--allow-origin", "http://127.0.0.1:8081"]);
    services.push(Service::start("card-bridge", &mut bridge, &run_dir)?);
    let instances = if scale > 1 {
        // OPS-6: kill an instance (kill -9 PID) and the others carry the flows on.
        let fleet = fleet::start(root, &run_dir, web, scale, |_| {})?;
        services.extend(fleet.into_iter().map(|service| {
            if service.name().starts_with("server-") {
                service.removable()
            } else {
                service
            }
        }));
        format!(
            "Scale  {scale} instances on PostgreSQL (database scss_demo) behind HAProxy on \
             :{SERVER_PORT},\n\x20      each request to the next: instances on :{}…, \
             their /metrics on :9100…\n",
            fleet::instance_port(web, 0)
        )
    } else {
        let mut server = server_command(root, &run_dir, web);
        services.push(Service::start("server", &mut server, &run_dir)?);
        String::new()
    };
    wait_for_port(SERVER_PORT, Duration::from_secs(30))?;
    wait_for_port(BRIDGE_PORT, Duration::from_secs(30))?;

    let origin = web.origin();
    let browsers = if https {
        "the browser tests prove this in Chromium, Firefox ESR and WebKitGTK"
    } else {
        "the browser tests prove it over HTTPS, `cargo xtask demo --https`, in\n\
         \x20      Chromium, Firefox ESR and WebKitGTK; Safari's engine needs that HTTPS"
    };
    println!(
        "\n==================== Smartcard Self-Service demo ====================\n\
         Open   {origin}/\n\
         \x20      ({browsers})\n\
         Setup  {origin}/check-setup says what this computer and browser are missing\n\
         Card   John Rigby's locked virtual card is in reader \"{VPCD_READER}\"\n\
         \x20      (through pcscd + vpcd; the card bridge listens on {})\n\
         Answers to his security questions were printed above by seed-demo.\n\
         Mail   read the emailed unlock code at http://127.0.0.1:{MAILDEV_WEB_PORT}/\n\
         Texts  texts (GOV.UK Notify's API, to a stand-in) at http://127.0.0.1:{NOTIFY_PORT}/\n\
         SCSC   \"Unlock with your Account Recovery Passcode\": John is 555555555501, Rigby,\n\
         \x20      Recovery pass 1 (mobile 07700 900123); Jane 555555555502, Doe, Recovery pass 2\n\
         Swap   change the card in the reader from a second terminal, the demo running on:\n\
         \x20      cargo xtask card jane-doe   (or any card in {cards}; `none` takes it out)\n\
         RA     {origin}/ra with an RA's card in the reader (PIN 1234): ravi-patel\n\
         \x20      (agent) or grace-okafor (manager)\n\
         Renew  sign in with tom-hughes (PIN 1234): his certificates end in 15 days, so\n\
         \x20      renewal comes first; amira-khan (25 days) is offered it and emailed a\n\
         \x20      reminder within seconds; lucy-evans's ended 3 days ago (the RA's)\n\
         Revoke the RA console revokes a lost card's certificates; {origin}/api/crl lists them\n\
         Codes  {origin}/passcodes (My card links it): all three passcodes in one Update;\n\
         \x20      priya-shah's expire in 10 days, sam-wood's expired (changed first),\n\
         \x20      helen-price's locked (the RA unlocks); hana-ito checks callers at\n\
         \x20      {origin}/ra/helpdesk (priya-shah's Verification Passcode: Verify pass 1)\n\
         {instances}\
         Logs   {}\n\
         Stop   Ctrl-C\n\
         ======================================================================",
        web.bridge_url(),
        run_dir.display(),
        cards = run_dir.join("cards").display(),
    );
    let stopped = procs::wait_for_ctrl_c(&mut services);
    // A card put in with `cargo xtask card` goes too; the services before their certificate.
    let _ = card::take_out(&run_dir);
    drop(services);
    drop(tls);
    stopped
}
