//! REG-5: a cardholder's own security events on "My card", in words with the date and
//! time — never the trail's action names or error codes, which are for the RA.

use api_types::audit::AuditAction;

/// What happened, as the cardholder would say it.
pub(super) fn event_words(action: AuditAction) -> &'static str {
    use AuditAction as A;
    match action {
        A::UnlockStart => "Your card started a self-service unlock",
        A::UnlockResume => "An unlock carried on after the page was reloaded",
        A::UnlockCardProof => "Your card proved itself for an unlock",
        A::UnlockAnswers => "Security questions answered",
        A::UnlockRecovery => "Account Recovery details entered",
        A::UnlockSendCode => "A One Time Passcode was sent",
        A::UnlockCode => "Unlock code entered",
        A::UnlockRaCode => "Code from the RA team entered",
        A::UnlockChannel | A::UnlockScript => "Your card was updated securely",
        A::UnlockComplete => "Your card was unlocked",
        A::LoginStart => "Sign-in started with your card",
        A::Login => "Signed in with your card",
        A::Session => "Your session was checked",
        A::Logout => "Signed out",
        A::RegisterBegin => "Registration for self-service started",
        A::RegisterDetails => "Security questions and email address given",
        A::RegisterResend => "A new registration code was asked for",
        A::RegisterConfirm => "Registered for self-service unlock",
        A::CardAgain => "You confirmed it was you with your card",
        A::ContactChange => "Your email address or mobile number was changed",
        A::NotMe => "You reported a notice as \"this wasn't me\"",
        A::RaAccess => "The RA console was refused to you",
        A::RaSearch => "Your RA team searched for users",
        A::RaViewUser => "Your RA team looked at your account",
        A::RaReopen => "Your RA team reopened self-service unlock",
        A::RaStop => "Your RA team stopped self-service for your account",
        A::RaRenew => "Your RA team began renewing your card's certificates",
        A::RaRevoke => "Your RA team revoked your card's certificates",
        A::RaPasscodesUnlock => "Your RA team unlocked your account after your passcodes expired",
        A::RaContact => "Your RA team changed your contact details",
        A::RaPhoneCode => "Your RA team gave you a code by phone",
        A::RaRole => "Your RA team changed your role",
        A::RaAuditExport => "Your RA team exported security events",
        A::RaReviewReport => "Your RA team looked into your report",
        A::RaViewTrail => "Your RA team looked at your security events",
        A::RaViewReports | A::RaViewDashboard => "Your RA team looked at its work list",
        A::CardIssue => "Your card was issued its keys and certificates",
        A::RenewStart | A::RenewChannel | A::RenewRecover | A::RenewKeys | A::RenewCertificates => {
            "You began renewing your card's certificates"
        }
        A::Renew => "Your card's certificates were renewed",
        A::RenewReminder => "We emailed you that your card's certificates end soon",
        A::PasscodesUpdate | A::PasscodesFinish => "You changed your passcodes",
        A::PasscodesReminder => "We emailed you that your passcodes expire soon",
        A::HelpdeskCheck => "A helpdesk checked your Verification Passcode on a call",
        A::KekRotate => "The service's keys were renewed",
    }
}

/// How it ended: done, or refused (the RA console shows the reason code).
pub(super) fn outcome_words(outcome: &str) -> &'static str {
    // Successes are recorded as `ok` or a word for what was done; refusals as an error
    // code, and every error code is one of `ErrorCode::ALL`.
    let refused = api_types::ErrorCode::ALL
        .iter()
        .any(|code| code.as_str() == outcome);
    if refused {
        "Refused"
    } else {
        "Done"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_5_every_event_reads_as_words_not_codes() {
        for action in AuditAction::ALL {
            let words = event_words(*action);
            assert!(!words.contains('.') && !words.contains('_'), "{words}");
        }
        assert_eq!(outcome_words("ok"), "Done");
        assert_eq!(outcome_words("code_sent"), "Done");
        assert_eq!(outcome_words("wrong_answers"), "Refused");
        assert_eq!(outcome_words("card_not_genuine"), "Refused");
    }
}
