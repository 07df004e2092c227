//! Each endpoint's example request.

use serde_json::{json, Value};

use super::values::*;

/// Endpoint `name`'s (its `Endpoint::NAME`) example request: a POST's JSON body, a GET's
/// query fields as one object; `None` when it takes nothing (`()`).
pub fn request(name: &str) -> Option<Value> {
    match name {
        "Start" => Some(json!({"card_guid": JOHN_CARD, "route": "questions"})),
        "Resume" => Some(json!({"card_guid": JOHN_CARD})),
        "CardProof" => Some(json!({"signature": SIGNATURE_9E})),
        "Answers" => Some(json!({
            "answers": [
                {"question_id": 1, "answer": "Smith"},
                {"question_id": 3, "answer": "Ford Fiesta"},
                {"question_id": 5, "answer": "Rex"},
            ],
        })),
        "Code" => Some(json!({"code": "048213"})),
        "RaCode" => Some(json!({"code": "582914"})),
        "Channel" => Some(json!({})),
        "Script" => Some(json!({"card_answers": [UNLOCK_OPENED]})),
        "Complete" => Some(json!({
            "script_responses": ["9000", "0c05efe38ee5d1069000", "fb6db4cc7fe2031a9000"],
            "pin_changed": false,
        })),
        "LoginStart" => Some(json!({"card_guid": JANE_CARD})),
        "LoginFinish" | "ProveCardAgain" | "RegisterBegin" | "RenewalStart" => Some(json!({
            "login_id": "3f6ce4b9327a20964410648c8390417b45be7c7268e580cc99c575922189d37157aad3e1741ebbc0410f8c1db371e0722f50f202a862c298",
            "signature": SIGNATURE_9A,
        })),
        "Logout" => Some(json!({})),
        "ChangeContact" => Some(json!({
            "login_id": "3f6ce4b9327a20964410648c8390417b45be7c7268e580cc99c575922189d37157aad3e1741ebbc0410f8c1db371e0722f50f202a862c298",
            "signature": SIGNATURE_9A,
            "email": "jane.doe@nhs.net",
            "mobile": "+447700900456",
        })),
        "NotMe" => Some(json!({
            "token": "bd1ebbe8c56b36fda8f9751892f21903c1bfb1f85cf5b4094802bbb4a451871b",
        })),
        "RegisterDetails" => Some(json!({
            "answers": [
                {"question_id": 2, "answer": "Trafalgar Square"},
                {"question_id": 3, "answer": "Vauxhall Corsa"},
                {"question_id": 5, "answer": "Biscuit"},
                {"question_id": 6, "answer": "Leeds"},
            ],
            "email": "jane.doe@nhs.net",
        })),
        "RegisterResend" => Some(json!({})),
        "RegisterConfirm" => Some(json!({"code": "731064"})),
        "SearchUsers" => Some(json!({"q": "Rigby", "page": 0})),
        "Reopen" => Some(json!({
            "reason": "Identity checked on the phone against the user's record",
        })),
        "StopSelfService" => Some(json!({
            "reason": "Suspected account takeover reported by the user's line manager",
        })),
        "RevokeCertificates" => Some(json!({
            "reason": "Card reported lost on the train; user called the RA desk",
        })),
        "UnlockPasscodes" => Some(json!({
            "reason": "Back from long-term leave; identity checked in person",
        })),
        "RenewAtDesk" => Some(json!({
            "card_guid": JANE_CARD,
            "reason": "Cardholder at the desk; photo ID checked against the record",
        })),
        "ChangeUserContact" => Some(json!({
            "email": "john.rigby@nhs.net",
            "mobile": "+447700900123",
            "reason": "New mobile number confirmed in person",
        })),
        "IssuePhoneCode" => Some(json!({
            "reason": "Locked out on a night shift; identity checked on the phone",
        })),
        "ChangeRole" => Some(json!({
            "role": "ra_agent",
            "reason": "Joined the RA team as an agent",
        })),
        "Audit" | "AuditCsv" => Some(json!({
            "user": "555555555501",
            "action": "unlock.",
            "from": 1_794_833_100,
            "to": 1_795_437_900,
        })),
        "ReviewReport" => Some(json!({
            "reason": "User confirmed the unlock was theirs, from a new workstation",
        })),
        "UpdatePasscodes" => Some(json!({
            "login_id": "3f6ce4b9327a20964410648c8390417b45be7c7268e580cc99c575922189d37157aad3e1741ebbc0410f8c1db371e0722f50f202a862c298",
            "signature": SIGNATURE_9A,
            "account_recovery": {"set": "Lighthouse 7 keeper"},
            "verification": "keep",
            "new_card_passcode": true,
        })),
        "FinishPasscodeUpdate" => Some(json!({})),
        "HelpdeskCheck" => Some(json!({
            "uuid": "555555555502",
            "verification_passcode": "Blue kettle 42",
        })),
        "Recovery" => Some(json!({
            "uuid": "555555555502",
            "family_name": "Doe",
            "recovery_passcode": "Recovery pass 2",
        })),
        "SendCode" => Some(json!({"delivery": "sms"})),
        "RenewalRecover" => Some(json!({
            "card_guid": JANE_CARD,
            "login_id": "3f6ce4b9327a20964410648c8390417b45be7c7268e580cc99c575922189d37157aad3e1741ebbc0410f8c1db371e0722f50f202a862c298",
        })),
        "RenewalChannel" => Some(json!({})),
        "RenewalKeys" => Some(json!({"card_answers": [RENEWAL_OPENED]})),
        "RenewalCertificates" => Some(json!({"card_answers": ["9000", NEW_KEY_9A, NEW_KEY_9E]})),
        "RenewalComplete" => Some(json!({
            "card_answers": ["5d6d2da1d88d5c989000", "b9891b546c70bfcf9000"],
        })),
        // Config, CaCertificate, Crl, Health, Session, Me,
        // ViewUser, Reports, ViewDashboard, ViewPasscodes: `()`.
        _ => None,
    }
}
