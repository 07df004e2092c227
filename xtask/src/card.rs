//! `cargo xtask card NAME`: change the card in the running demo's reader without stopping
//! the demo (issue 19 item 7). Whichever demo card is in (its process id in
//! `.run/demo/card.pid`) is taken out, then the demo user NAME's card goes in and stays in
//! after this command returns; `none` only takes the card out.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::{bin, VPCD_ADDR, VPCD_READER};

/// Where the demo keeps the process id of the card in its reader.
pub fn pid_file(run_dir: &Path) -> PathBuf {
    run_dir.join("card.pid")
}

/// A demo card's state file, for a name as `seed-demo` writes them (`jane-doe`).
fn card_file(cards: &Path, name: &str) -> Option<PathBuf> {
    let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    plain.then(|| cards.join(format!("{name}.json")))
}

fn demo_cards(cards: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cards)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

pub fn card(root: &Path, args: &[String]) -> Result<()> {
    let run_dir = root.join(".run/demo");
    let cards = run_dir.join("cards");
    let available = demo_cards(&cards);
    let usage = || {
        format!(
            "usage: cargo xtask card <NAME|none> while `cargo xtask demo` runs; NAME is one \
             of: {}",
            available.join(", ")
        )
    };
    let Some(name) = args.first() else {
        bail!(usage());
    };
    if available.is_empty() {
        bail!(
            "no demo cards in {}: start `cargo xtask demo` first",
            cards.display()
        );
    }
    let file = match name.as_str() {
        "none" => None,
        name => match card_file(&cards, name) {
            Some(file) if file.exists() => Some(file),
            _ => bail!(usage()),
        },
    };
    take_out(&run_dir)?;
    let Some(file) = file else {
        println!("the reader \"{VPCD_READER}\" is empty");
        return Ok(());
    };
    let log_path = run_dir.join("card.log");
    let log = File::create(&log_path)?;
    let mut child = Command::new(bin(root, "virtual-card"))
        .args(["insert", "--state"])
        .arg(&file)
        .args(["--vpcd", VPCD_ADDR])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: it stays in the reader after this command ends.
        .process_group(0)
        .spawn()
        .context("starting virtual-card")?;
    std::fs::write(pid_file(&run_dir), child.id().to_string())?;
    std::thread::sleep(Duration::from_millis(700));
    if let Ok(Some(status)) = child.try_wait() {
        bail!(
            "the card did not go in ({status}); see {}",
            log_path.display()
        );
    }
    println!("{name}'s card (PIN 1234) is in reader \"{VPCD_READER}\"");
    Ok(())
}

/// Takes out the demo's card, if one is in: SIGTERM (the card leaves the reader cleanly),
/// then SIGKILL after 5 s. Only a virtual card's process is ever signalled.
pub fn take_out(run_dir: &Path) -> Result<()> {
    let path = pid_file(run_dir);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let _ = std::fs::remove_file(&path);
    let Ok(pid) = text.trim().parse::<u32>() else {
        return Ok(());
    };
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let is_card = std::fs::read(proc.join("cmdline"))
        .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("virtual-card"));
    if !is_card {
        return Ok(());
    }
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while proc.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if proc.exists() {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    // pcscd polls the reader every ~400 ms: let it see the card go.
    std::thread::sleep(Duration::from_millis(600));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_demo_cards_plain_name_names_a_file() {
        let cards = Path::new("/demo/cards");
        assert_eq!(
            card_file(cards, "jane-doe"),
            Some(PathBuf::from("/demo/cards/jane-doe.json"))
        );
        for bad in ["", "../../etc/passwd", "Jane", "jane doe", "a/b", "x.json"] {
            assert_eq!(card_file(cards, bad), None, "{bad}");
        }
    }
}
