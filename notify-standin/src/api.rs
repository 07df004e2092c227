//! Notify's v2 endpoints we use, answering as Notify does: `POST /v2/notifications/sms`,
//! `POST /v2/notifications/email` (201 with the rendered content) and `GET
//! /v2/notifications/{id}`. The checks run in Notify's order: the token, then the rate
//! limit (here: the behaviour a test asked for), the schema ([`crate::validate`]), the
//! template and its personalisation, the sender, then the recipient.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::errors::NotifyError;
use crate::phone::{self, Refusal};
use crate::templates::{missing, render, text_of};
use crate::validate::{self, notify_uuid, Kind};
use crate::{unix_now, utc_iso, Message, Shared};

/// The checks every v2 request passes first: the JWT, then the behaviour a test asked
/// for (Notify checks its rate limit after the token too). The caller's service id.
async fn admitted(shared: &Shared, headers: &HeaderMap) -> Result<String, NotifyError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    let service = crate::auth::check(header.as_deref(), &shared.keys, unix_now())?;
    shared.behave().await?;
    Ok(service)
}

fn answer(result: Result<(StatusCode, Value), NotifyError>) -> Response {
    match result {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(error) => error.into_response(),
    }
}

pub async fn send_sms(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    answer(create(&shared, Kind::Sms, &headers, &body).await)
}

pub async fn send_email(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    answer(create(&shared, Kind::Email, &headers, &body).await)
}

async fn create(
    shared: &Shared,
    kind: Kind,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(StatusCode, Value), NotifyError> {
    let service = admitted(shared, headers).await?;
    let request = validate::parse(kind, body)?;
    let template = shared
        .templates
        .get(&request.template_id)
        .ok_or_else(|| NotifyError::bad_request("Template not found"))?;
    if template.kind != kind.name() {
        return Err(NotifyError::bad_request(format!(
            "{} template is not suitable for {} notification",
            template.kind,
            kind.name()
        )));
    }
    let texts: Vec<&str> = template
        .subject
        .iter()
        .map(String::as_str)
        .chain([template.body.as_str()])
        .collect();
    let absent = missing(&texts, &request.personalisation);
    if !absent.is_empty() {
        return Err(NotifyError::bad_request(format!(
            "Missing personalisation: {}",
            absent.join(", ")
        )));
    }
    if let Some(sender) = &request.sender_id {
        // The stand-in's service has only its default sender and reply-to address.
        let field = match kind {
            Kind::Sms => "sms_sender_id",
            Kind::Email => "email_reply_to_id",
        };
        return Err(NotifyError::bad_request(format!(
            "{field} {sender} does not exist in database for service id {service}"
        )));
    }
    if kind == Kind::Sms && phone::normalise(&request.to) == Err(Refusal::International) {
        return Err(NotifyError::bad_request(Refusal::INTERNATIONAL_MESSAGE));
    }
    let rendered = |text: &str| render(text, &request.personalisation).unwrap_or_default();
    let body = rendered(&template.body);
    let subject = template.subject.as_deref().map(rendered);
    let id = uuid::Uuid::new_v4().to_string();
    let base = shared.base_url();
    let content = match kind {
        Kind::Sms => json!({ "body": body, "from_number": "GOVUK" }),
        Kind::Email => json!({
            "subject": subject,
            "body": body,
            "from_email": "smartcard.self-service@notifications.service.gov.uk",
            "one_click_unsubscribe_url": request.unsubscribe_url,
        }),
    };
    let created = json!({
        "id": id,
        "reference": request.reference,
        "content": content,
        "uri": format!("{base}/v2/notifications/{id}"),
        "template": {
            "id": template.id,
            "version": 1,
            "uri": format!("{base}/services/{service}/templates/{}", template.id),
        },
        "scheduled_for": null,
    });
    let status = match kind {
        Kind::Sms => phone::test_status(&request.to_normalised),
        Kind::Email => "delivered",
    };
    let personalisation: BTreeMap<String, String> = request
        .personalisation
        .iter()
        .map(|(k, v)| (k.clone(), text_of(v)))
        .collect();
    shared.record(Message {
        id,
        kind: kind.name(),
        to: request.to,
        to_normalised: request.to_normalised,
        template_id: template.id.clone(),
        service_id: service,
        personalisation,
        reference: request.reference,
        body,
        subject,
        status,
        created_at: unix_now(),
    });
    Ok((StatusCode::CREATED, created))
}

pub async fn notification(
    State(shared): State<Shared>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    // An id that is not even valid UTF-8 once decoded is still Notify's "not a valid UUID".
    let id = id.map(|Path(id)| id).unwrap_or_default();
    answer(read(&shared, &headers, &id).await)
}

async fn read(
    shared: &Shared,
    headers: &HeaderMap,
    id: &str,
) -> Result<(StatusCode, Value), NotifyError> {
    let service = admitted(shared, headers).await?;
    let id = notify_uuid(id)
        .ok_or_else(|| NotifyError::validation("notification_id is not a valid UUID"))?;
    let message = shared
        .find(&id.to_string(), &service)
        .ok_or_else(|| NotifyError::new(404, "NoResultFound", "No result found"))?;
    let at = utc_iso(message.created_at);
    let sms = message.kind == "sms";
    let to = Value::String(message.to.clone());
    let base = shared.base_url();
    Ok((
        StatusCode::OK,
        json!({
            "id": message.id,
            "reference": message.reference,
            "email_address": if sms { Value::Null } else { to.clone() },
            "phone_number": if sms { to } else { Value::Null },
            "line_1": null, "line_2": null, "line_3": null,
            "line_4": null, "line_5": null, "line_6": null,
            "postcode": null,
            "postage": null,
            "type": message.kind,
            "status": message.status,
            "template": {
                "id": message.template_id,
                "version": 1,
                "uri": format!("{base}/service/{service}/template/{}", message.template_id),
            },
            "body": message.body,
            "subject": message.subject,
            "created_at": at,
            "created_by_name": null,
            "sent_at": at,
            "completed_at": at,
            "scheduled_for": null,
            "one_click_unsubscribe_url": null,
            "is_cost_data_ready": true,
            "cost_in_pounds": 0.0,
            "cost_details": {},
        }),
    ))
}

/// Flask's answer for a path with no endpoint, as Notify gives it.
pub async fn not_found() -> Response {
    let body = json!({
        "result": "error",
        "message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
    });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
