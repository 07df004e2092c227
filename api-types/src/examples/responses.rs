//! Each endpoint's example answer.

use serde_json::{json, Value};

use super::values::*;

/// The trail's event for John Rigby's third wrong answers (UNL-4), in the RA's views.
fn third_wrong_answers() -> Value {
    json!({
        "seq": 48213,
        "at": 1_795_434_300,
        "actor": JOHN_CARD,
        "action": "unlock.answers",
        "outcome": "wrong_answers",
        "card_guid": JOHN_CARD,
        "user_uuid": "555555555501",
        "client_addr": "192.0.2.17",
        "detail": "failure 3 of 3",
    })
}

/// Sam Wood's open "this wasn't me" report (RA-4), in the RA's queue and dashboard.
fn sams_report() -> Value {
    json!({
        "id": "ee852e06acbe953e04bfc29511245b8b39c6e74e21a90025175579e37078606e",
        "user": {
            "uuid": "555555555509",
            "display_name": "Mr Sam Wood",
            "email": "sam.wood@nhs.net",
            "role": "staff",
            "registered": true,
            "self_service_closed": true,
        },
        "notice": "unlock",
        "reported_at": 1_795_265_100,
    })
}

/// Endpoint `name`'s example success answer; `None` for the few that are not JSON.
pub fn response(name: &str) -> Option<Value> {
    match name {
        "Start" => Some(json!({
            "attempt_id": "c918869e99401ca8cafd718907d8ef99",
            "challenge": "73b0917c76f2de5fbb4d21d7fd8702961510784bfa63c0481d3a3d69388f593b",
            "expires_at": 1_795_438_200,
        })),
        "Resume" => Some(json!({"attempt_id": "c918869e99401ca8cafd718907d8ef99"})),
        "CardProof" => Some(json!({
            "holder_name": "Mr John Rigby",
            "questions": [
                {"id": 1, "text": "What is your mother's maiden name?"},
                {"id": 3, "text": "What was the make and model of your first car?"},
                {"id": 5, "text": "What was the name of your first pet?"},
            ],
            "attempts_left": 3,
            "options": [],
        })),
        "Answers" => Some(json!({"email_hint": "j***@nhs.net", "code_expires_at": 1_795_438_800})),
        "Code" | "RaCode" => Some(json!({"card_guid": JOHN_CARD})),
        "Channel" => Some(json!({
            "card_guid": JOHN_CARD,
            "relay": {
                "apdus": [UNLOCK_OPENING],
                "grant": {"claims": UNLOCK_OPEN_CLAIMS, "signature": UNLOCK_OPEN_SIGNATURE},
            },
        })),
        "Script" => Some(json!({
            "card_guid": JOHN_CARD,
            "relay": {
                "apdus": [
                    UNLOCK_EXTERNAL_AUTHENTICATE,
                    UNLOCK_RESET_RETRY_COUNTER,
                    UNLOCK_CHANGE_PUK,
                ],
                "grant": {"claims": UNLOCK_SCRIPT_CLAIMS, "signature": UNLOCK_SCRIPT_SIGNATURE},
            },
            "one_time_pin": "73914205",
            "change_pin": {"claims": UNLOCK_PIN_CLAIMS, "signature": UNLOCK_PIN_SIGNATURE},
        })),
        "Complete" => Some(json!({"card_updated": true, "unlocked": false})),
        "Config" => Some(json!({
            "organisation_name": "Smartcard Service Centre",
            "ra_help": RA_HELP,
            "bridge_url": "http://127.0.0.1:9981",
            "approved_email_domains": ["nhs.net", "nhs.uk", "gov.uk", "mod.uk"],
            "policy": "seed-2006",
            "passcode_expiry": {"lifetime_days": 365, "reminder_days": 14, "lock_after_days": 21},
        })),
        "LoginStart" => Some(json!({
            "login_id": "3f6ce4b9327a20964410648c8390417b45be7c7268e580cc99c575922189d37157aad3e1741ebbc0410f8c1db371e0722f50f202a862c298",
            "challenge": "a371e6ea67d8001823110bb42247c6a9b1bb9c2170ddaadfa72f73af11b33d45",
            "expires_at": 1_795_438_020,
        })),
        "LoginFinish" | "Session" => Some(json!({
            "display_name": "Ms Jane Doe",
            "uuid": "555555555502",
            "card_guid": JANE_CARD,
            "expires_at": 1_795_466_700,
            "idle_timeout_secs": 900,
            "role": "staff",
            "renewal": {"state": "offered", "not_after": 1_797_597_900},
            "passcodes": {"due": "not_due"},
        })),
        "Logout" => Some(json!({})),
        "Me" | "ChangeContact" => Some(json!({
            "display_name": "Ms Jane Doe",
            "uuid": "555555555502",
            "organisation": "Smartcard Service Centre",
            "email": "jane.doe@nhs.net",
            "mobile": "+447700900456",
            "registered": true,
            "self_service_closed": false,
            "card_guid": JANE_CARD,
            "certificate_expires_at": 1_797_597_900,
            "renewals_in_a_row": 0,
            "renewals_allowed_in_a_row": 2,
            "passcodes_set_at": 1_785_069_900,
            "passcodes_unlocked_at": null,
            "events": [
                {"at": 1_795_437_840, "action": "auth.login", "outcome": "ok"},
                {"at": 1_795_178_700, "action": "register.confirm", "outcome": "registered"},
                {"at": 1_795_178_400, "action": "unlock.complete", "outcome": "unlocked"},
            ],
        })),
        "ProveCardAgain" => Some(json!({"until": 1_795_438_200})),
        "NotMe" => Some(json!({"reported": true})),
        "RegisterBegin" => Some(json!({
            "registration_id": "b56da5e94cb8c31630d12aa0413dab60",
            "questions": [
                {"id": 1, "text": "What is your mother's maiden name?"},
                {"id": 2, "text": "Where were you on the turn of the millennium?"},
                {"id": 3, "text": "What was the make and model of your first car?"},
                {"id": 4, "text": "What was your childhood phone number, including area code?"},
                {"id": 5, "text": "What was the name of your first pet?"},
                {"id": 6, "text": "In which town or city were you born?"},
            ],
            "email": "jane.doe@nhs.net",
            "approved_domains": ["nhs.net", "nhs.uk", "gov.uk", "mod.uk"],
        })),
        "RegisterDetails" | "RegisterResend" => Some(json!({
            "email_hint": "j***@nhs.net",
            "code_expires_at": 1_795_438_800,
        })),
        "RegisterConfirm" => Some(json!({"registered": true})),
        "SearchUsers" => Some(json!({
            "users": [
                {
                    "uuid": "555555555501",
                    "display_name": "Mr John Rigby",
                    "email": "john.rigby@nhs.net",
                    "role": "staff",
                    "registered": true,
                    "self_service_closed": true,
                },
            ],
            "page": 0,
            "has_more": false,
        })),
        "ViewUser" => Some(json!({
            "summary": {
                "uuid": "555555555501",
                "display_name": "Mr John Rigby",
                "email": "john.rigby@nhs.net",
                "role": "staff",
                "registered": true,
                "self_service_closed": true,
            },
            "mobile": "+447700900123",
            "locks": {
                "self_service_closed": true,
                "questions_locked": true,
                "code_locked": false,
                "open_reports": 0,
                "answer_failures": 3,
                "code_failures": 0,
                "passcodes_locked": false,
                "recovery_locked": false,
            },
            "cards": [
                {
                    "guid": JOHN_CARD,
                    "issued_at": 1_760_877_900,
                    "certificate_expires_at": 1_855_485_900,
                    "pin_tries_left": 0,
                    "pin_tries_seen_at": 1_795_434_200,
                    "renewals_in_a_row": 0,
                    "renewal": {"state": "not_due"},
                },
            ],
            "phone_code": {
                "issued_at": 1_795_437_780,
                "expires_at": 1_795_438_380,
                "tries_left": 3,
            },
            "events": [
                third_wrong_answers(),
            ],
        })),
        "Reopen" | "StopSelfService" | "RevokeCertificates" | "UnlockPasscodes"
        | "ChangeUserContact" | "ChangeRole" | "ReviewReport" => Some(json!({})),
        "RenewAtDesk" | "RenewalStart" | "RenewalRecover" | "RenewalChannel" => Some(json!({
            "renewal_id": "aace5fdf9d6b09ce7216fe2472301eaa",
            "card_guid": JANE_CARD,
            "relay": {
                "apdus": [RENEWAL_OPENING],
                "grant": {"claims": RENEWAL_OPEN_CLAIMS, "signature": RENEWAL_OPEN_SIGNATURE},
            },
        })),
        "IssuePhoneCode" => Some(json!({
            "code": "582914",
            "expires_at": 1_795_438_500,
            "tries": 3,
        })),
        "Audit" => Some(json!({
            "events": [
                third_wrong_answers(),
                {
                    "seq": 48190,
                    "at": 1_795_434_200,
                    "actor": JOHN_CARD,
                    "action": "unlock.card_proof",
                    "outcome": "ok",
                    "card_guid": JOHN_CARD,
                    "user_uuid": "555555555501",
                    "client_addr": "192.0.2.17",
                    "detail": "",
                },
            ],
            "next_before": 48190,
            "chain": {"state": "intact", "rows": 48213, "unchecked": 0},
        })),
        "Reports" => Some(json!({
            "reports": [
                sams_report(),
            ],
        })),
        "ViewDashboard" => Some(json!({
            "unverified_email": [
                {
                    "uuid": "555555555503",
                    "display_name": "Mr Ravi Patel",
                    "email": "ravi.patel@nhs.net",
                    "role": "ra_agent",
                    "registered": false,
                    "self_service_closed": false,
                },
            ],
            "expiring_certificates": [
                {
                    "user": {
                        "uuid": "555555555506",
                        "display_name": "Mr Tom Hughes",
                        "email": "tom.hughes@nhs.net",
                        "role": "staff",
                        "registered": true,
                        "self_service_closed": false,
                    },
                    "card_guid": "9a4e6f457f4656529548e88eea474b88",
                    "expires_at": 1_796_733_900,
                },
            ],
            "repeat_lockouts": [
                {
                    "user": {
                        "uuid": "555555555501",
                        "display_name": "Mr John Rigby",
                        "email": "john.rigby@nhs.net",
                        "role": "staff",
                        "registered": true,
                        "self_service_closed": true,
                    },
                    "lockouts": 2,
                },
            ],
            "open_reports": [
                sams_report(),
            ],
        })),
        "ViewPasscodes" => Some(json!({
            "account_recovery_set": true,
            "verification_set": true,
            "last_set_at": 1_785_069_900,
        })),
        "UpdatePasscodes" => Some(json!({
            "card_next": {
                "update_id": "0fc9ed7867f8657fcdab859c8b0ba2a9",
                "grant": {"claims": PASSCODES_PIN_CLAIMS, "signature": PASSCODES_PIN_SIGNATURE},
            },
        })),
        "FinishPasscodeUpdate" => Some(json!({
            "account_recovery_set": true,
            "verification_set": true,
            "last_set_at": 1_795_437_900,
        })),
        "HelpdeskCheck" => Some(json!({"matches": true})),
        "Recovery" => Some(json!({
            "options": [
                {"delivery": "email", "hint": "j***@nhs.net"},
                {"delivery": "sms", "hint": "07*** ***456"},
            ],
        })),
        "SendCode" => Some(json!({
            "delivery": "sms",
            "hint": "07*** ***456",
            "code_expires_at": 1_795_438_500,
        })),
        "RenewalKeys" => Some(json!({
            "relay": {
                "apdus": [RENEWAL_EXTERNAL_AUTHENTICATE, GENERATE_9A, GENERATE_9E],
                "grant": {"claims": RENEWAL_KEYS_CLAIMS, "signature": RENEWAL_KEYS_SIGNATURE},
            },
        })),
        "RenewalCertificates" => Some(json!({
            "relay": {
                "apdus": [PUT_CERTIFICATE_9A, PUT_CERTIFICATE_9E],
                "grant": {
                    "claims": RENEWAL_CERTIFICATES_CLAIMS,
                    "signature": RENEWAL_CERTIFICATES_SIGNATURE,
                },
            },
        })),
        "RenewalComplete" => Some(json!({"not_after": 1_890_045_900})),
        // CaCertificate, Crl, Health, AuditCsv: not JSON.
        _ => None,
    }
}
