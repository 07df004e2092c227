//! The stand-in over HTTP, as a client meets it: Notify's answers to good requests and
//! to bad tokens, bodies and ids, the messages listed, and the page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use notify_standin::unix_now;
use serde_json::{json, Value};

#[tokio::test]
async fn sms_2_a_good_request_is_201_rendered_listed_and_readable() {
    let base = standin().await;
    let token = jwt(SECRET, unix_now());
    let (status, body) = sms(&base, &token, text_to("07700 900123")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        body["content"]["body"],
        "Code <script>ABC</script> for 10 minutes"
    );
    assert_eq!(body["content"]["from_number"], "GOVUK");
    assert_eq!(body["reference"], "row-1");
    assert_eq!(body["uri"], format!("{base}/v2/notifications/{id}"));
    assert_eq!(
        body["template"],
        json!({"id": TEMPLATE, "version": 1, "uri": format!("{base}/services/{SERVICE}/templates/{TEMPLATE}")})
    );
    assert_eq!(body["scheduled_for"], Value::Null);

    let list = listed(&base, "?type=sms&to=%2B447700900123").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["to"], "07700 900123");
    assert_eq!(list[0]["to_normalised"], "+447700900123");
    assert_eq!(list[0]["personalisation"]["code"], "<script>ABC</script>");
    assert_eq!(list[0]["personalisation"]["minutes"], "10");
    assert_eq!(list[0]["status"], "delivered");
    assert_eq!(listed(&base, "?type=email").await, json!([]));

    let (status, got) = get(&base, &token, id).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["status"], "delivered");
    assert_eq!(got["type"], "sms");
    assert_eq!(got["phone_number"], "07700 900123");
    assert_eq!(got["email_address"], Value::Null);
    assert_eq!(got["subject"], Value::Null);
    assert_eq!(got["created_by_name"], Value::Null);
    assert!(got["created_at"].as_str().unwrap().ends_with('Z'));
    // Another service cannot read it, as on Notify.
    let (status, other) = get(&base, &jwt_for(OTHER_SERVICE, OTHER_SECRET, unix_now()), id).await;
    assert_eq!(
        (status, first_error(&other)),
        (404, ("NoResultFound", "No result found"))
    );

    let page = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("&lt;script&gt;ABC&lt;/script&gt;"), "{page}");
    assert!(!page.contains("<script>"));
    assert!(page.contains(r#"<meta http-equiv="refresh" content="5">"#));
    assert!(page.contains("<title>Notify stand-in — texts received</title>"));

    let client = reqwest::Client::new();
    let cleared = client
        .delete(format!("{base}/_standin/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status().as_u16(), 204);
    assert_eq!(listed(&base, "").await, json!([]));
}

#[tokio::test]
async fn sms_2_bad_tokens_get_notifys_auth_errors() {
    let base = standin().await;
    let now = unix_now();
    let client = reqwest::Client::new();
    let url = format!("{base}/v2/notifications/sms");
    let bare = client
        .post(&url)
        .json(&text_to("07700900123"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status().as_u16(), 401);
    let body: Value = bare.json().await.unwrap();
    assert_eq!(
        first_error(&body),
        (
            "AuthError",
            "Unauthorized: authentication token must be provided"
        )
    );
    let basic = client
        .post(&url)
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .json(&text_to("07700900123"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);
    let body: Value = basic.json().await.unwrap();
    assert_eq!(
        first_error(&body).1,
        "Unauthorized: authentication bearer scheme must be used"
    );
    let clock = "Error: Your system clock must be accurate to within 30 seconds";
    for (token, message) in [
        (jwt(SECRET, now - 31), clock),
        (jwt(SECRET, now + 31), clock),
        (
            jwt("00000000-0000-4000-8000-000000000000", now),
            "Invalid token: API key not found",
        ),
        (
            jwt_for("00000000-0000-4000-8000-000000000000", SECRET, now),
            "Invalid token: service not found",
        ),
        (
            "not.a.jwt".to_owned(),
            notify_standin::auth::GENERAL_TOKEN_ERROR,
        ),
    ] {
        let (status, body) = sms(&base, &token, text_to("07700900123")).await;
        assert_eq!((status, first_error(&body)), (403, ("AuthError", message)));
        assert_eq!(body["status_code"], 403);
    }
    assert_eq!(
        listed(&base, "").await,
        json!([]),
        "nothing refused is kept"
    );
}

#[tokio::test]
async fn sms_2_bad_requests_get_notifys_validation_errors() {
    let base = standin().await;
    let token = jwt(SECRET, unix_now());
    let mut extra = text_to("07700900123");
    extra["colour"] = json!("red");
    let mut missing = text_to("07700900123");
    missing["personalisation"] = json!({"code": "x"});
    let mut not_uuid = text_to("07700900123");
    not_uuid["template_id"] = json!("otp");
    let mut unknown = text_to("07700900123");
    unknown["template_id"] = json!("00000000-0000-4000-8000-000000000000");
    let mut email_template = text_to("07700900123");
    email_template["template_id"] = json!(EMAIL_TEMPLATE);
    let validation = "ValidationError";
    let bad_request = "BadRequestError";
    for (body, error, message) in [
        (
            extra,
            validation,
            "Additional properties are not allowed (colour was unexpected)",
        ),
        (missing, bad_request, "Missing personalisation: minutes"),
        (
            text_to("020 7946 0000"),
            validation,
            "phone_number Not a UK mobile number",
        ),
        (
            text_to("07700 9001234"),
            validation,
            "phone_number Too many digits",
        ),
        (
            text_to("07700 90012"),
            validation,
            "phone_number Not enough digits",
        ),
        (
            json!({"template_id": TEMPLATE}),
            validation,
            "phone_number is a required property",
        ),
        (not_uuid, validation, "template_id is not a valid UUID"),
        (unknown, bad_request, "Template not found"),
        (
            email_template,
            bad_request,
            "email template is not suitable for sms notification",
        ),
    ] {
        let (status, answer) = sms(&base, &token, body.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["status_code"], 400);
        assert_eq!(first_error(&answer), (error, message), "{body}");
    }
    let invalid = reqwest::Client::new()
        .post(format!("{base}/v2/notifications/sms"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status().as_u16(), 400);
    let answer: Value = invalid.json().await.unwrap();
    assert_eq!(
        first_error(&answer),
        (bad_request, "Invalid JSON supplied in POST data")
    );
    assert_eq!(listed(&base, "").await, json!([]));
}

#[tokio::test]
async fn sms_2_emails_are_sent_and_refused_as_notify_does() {
    let base = standin().await;
    let token = jwt(SECRET, unix_now());
    let email = json!({
        "email_address": "Amala@Example.com",
        "template_id": EMAIL_TEMPLATE,
        "personalisation": {"code": "XYZ", "Name": "Amala"},
    });
    let (status, body) = post(&base, "email", &token, email).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["content"]["subject"], "Your code, Amala");
    assert_eq!(body["content"]["body"], "Code XYZ");
    assert!(body["content"]["from_email"]
        .as_str()
        .unwrap()
        .ends_with("@notifications.service.gov.uk"));
    assert_eq!(body["reference"], Value::Null);
    let (_, got) = get(&base, &token, body["id"].as_str().unwrap()).await;
    assert_eq!(
        (got["type"].as_str(), got["email_address"].as_str()),
        (Some("email"), Some("Amala@Example.com"))
    );
    assert_eq!(
        listed(&base, "?to=amala%40example.com")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let bad = json!({"email_address": "amala", "template_id": EMAIL_TEMPLATE});
    let (status, answer) = post(&base, "email", &token, bad).await;
    assert_eq!(
        (status, first_error(&answer)),
        (
            400,
            ("ValidationError", "email_address Not a valid email address")
        )
    );
}

#[tokio::test]
async fn sms_2_reading_a_notification_checks_its_id() {
    let base = standin().await;
    let token = jwt(SECRET, unix_now());
    let (status, body) = get(&base, &token, "00000000-0000-4000-8000-000000000000").await;
    assert_eq!(
        (status, first_error(&body)),
        (404, ("NoResultFound", "No result found"))
    );
    let (status, body) = get(&base, &token, "nope").await;
    assert_eq!(
        (status, first_error(&body)),
        (
            400,
            ("ValidationError", "notification_id is not a valid UUID")
        )
    );
    let (status, _) = get(&base, "", "nope").await;
    assert_eq!(status, 401);
}
