//! What a test or the demo steers: Notify's test numbers failing after the 201, the
//! behaviours (429, 500, slow) asked for at `/_standin/behaviour`, and the binary's
//! command line and first line of output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use notify_standin::unix_now;
use serde_json::{json, Value};

#[tokio::test]
async fn sms_2_test_numbers_fail_after_the_201_and_behaviours_answer_429_500_and_slowly() {
    let base = standin().await;
    let token = jwt(SECRET, unix_now());
    for (number, outcome) in [
        ("07700900002", "permanent-failure"),
        ("07700900003", "temporary-failure"),
    ] {
        let (status, body) = sms(&base, &token, text_to(number)).await;
        assert_eq!(status, 201);
        let (_, got) = get(&base, &token, body["id"].as_str().unwrap()).await;
        assert_eq!(got["status"], outcome);
    }

    let client = reqwest::Client::new();
    let behave = |behaviour: Value| {
        client
            .post(format!("{base}/_standin/behaviour"))
            .json(&behaviour)
            .send()
    };
    behave(json!({"mode": "rate_limit", "count": 2}))
        .await
        .unwrap();
    for _ in 0..2 {
        let (status, body) = sms(&base, &token, text_to("07700900123")).await;
        assert_eq!(
            (status, first_error(&body)),
            (
                429,
                (
                    "RateLimitError",
                    "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
                )
            )
        );
    }
    assert_eq!(sms(&base, &token, text_to("07700900123")).await.0, 201);
    behave(json!({"mode": "server_error"})).await.unwrap();
    for _ in 0..2 {
        let (status, body) = sms(&base, &token, text_to("07700900123")).await;
        assert_eq!(
            (status, first_error(&body)),
            (500, ("Exception", "Internal server error"))
        );
    }
    behave(json!({"mode": "slow", "delay_ms": 400, "count": 1}))
        .await
        .unwrap();
    let started = Instant::now();
    assert_eq!(sms(&base, &token, text_to("07700900123")).await.0, 201);
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(sms(&base, &token, text_to("07700900123")).await.0, 201);
    // Only the texts that were answered 201 are kept.
    assert_eq!(
        listed(&base, "?to=07700900123")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let refused = behave(json!({"mode": "sideways"})).await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
}

#[test]
fn sms_2_the_binary_says_where_it_listens_and_refuses_a_malformed_key() {
    let dir = std::env::temp_dir().join(format!("notify-standin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let templates = dir.join("templates.toml");
    std::fs::write(&templates, templates_toml()).unwrap();
    let bin = env!("CARGO_BIN_EXE_notify-standin");

    let refused = Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "not-a-key",
            "--templates",
        ])
        .arg(&templates)
        .env_remove("NOTIFY_STANDIN_API_KEYS")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a Notify API key"));

    let mut child = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--templates"])
        .arg(&templates)
        .env("NOTIFY_STANDIN_API_KEYS", format!("{KEY},{OTHER_KEY}"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("notify-standin listening on http://")
        .map(|addr| format!("http://{addr}"));
    let served = url.as_deref().map(|url| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let spec = reqwest::get(format!("{url}/openapi.yaml")).await.unwrap();
            let other = jwt_for(OTHER_SERVICE, OTHER_SECRET, unix_now());
            let (status, _) = sms(url, &other, text_to("07700900123")).await;
            (spec.text().await.unwrap(), status)
        })
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (spec, status) = served.unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    assert!(spec.starts_with("# The GOV.UK Notify v2") && spec.contains("openapi: 3."));
    assert_eq!(status, 201, "both keys from the environment are known");
}
