//! What a registration sends, checked before it is sent (REG-2, REG-3) — the same rules
//! the server applies again: 4 different questions, each answered in at most 200
//! characters, and one plain email address on an approved domain (or a subdomain of
//! one). Pure functions; each problem names the input it is about.

use api_types::contact::{ContactError, EmailAddress};
use api_types::register::{RegisterDetailsRequest, ANSWERS_NEEDED};
use api_types::unlock::Answer;
use api_types::values::{BoundedVec, SecurityAnswer, SECURITY_ANSWER_MAX_CHARS};
use api_types::ErrorCode;

use crate::errors::{FieldError, Problem};

/// The email input's id.
pub(super) const EMAIL_FIELD: &str = "email";
pub(super) const QUESTION_FIELDS: [&str; ANSWERS_NEEDED] =
    ["question-1", "question-2", "question-3", "question-4"];
pub(super) const ANSWER_FIELDS: [&str; ANSWERS_NEEDED] =
    ["answer-1", "answer-2", "answer-3", "answer-4"];

/// REG-2: four different questions (`0` is "none chosen"), each answered in at most
/// [`SECURITY_ANSWER_MAX_CHARS`] characters: the answers, or what is wrong with each
/// input.
pub(super) fn check_choices(
    choices: &[(u32, String); ANSWERS_NEEDED],
) -> Result<Vec<Answer>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut answers = Vec::new();
    let fields = QUESTION_FIELDS.iter().zip(ANSWER_FIELDS);
    for (i, ((question_id, text), (question_field, answer_field))) in
        choices.iter().zip(fields).enumerate()
    {
        let n = i + 1;
        let mut refuse = |field: &'static str, message: String| {
            errors.push(FieldError { field, message });
        };
        let earlier = choices
            .iter()
            .take(i)
            .position(|(other, _)| other == question_id);
        match (question_id, earlier) {
            (0, _) => refuse(question_field, format!("Choose question {n}.")),
            (_, Some(j)) => refuse(
                question_field,
                format!(
                    "Question {n} is the same as question {}. Choose a different question.",
                    j + 1
                ),
            ),
            _ => {}
        }
        if text.trim().is_empty() {
            refuse(answer_field, format!("Enter your answer to question {n}."));
            continue;
        }
        match SecurityAnswer::parse(text) {
            Ok(answer) => answers.push(Answer {
                question_id: *question_id,
                answer,
            }),
            Err(_) => refuse(
                answer_field,
                format!(
                    "Your answer to question {n} must be {SECURITY_ANSWER_MAX_CHARS} characters \
                     or fewer."
                ),
            ),
        }
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

/// "nhs.net, nhs.uk, gov.uk or mod.uk".
pub(super) fn domains_list(approved: &[String]) -> String {
    match approved {
        [] => "an approved domain".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// REG-3: the address as the server takes it, by the same rule
/// ([`EmailAddress::parse_approved`]); else the problem, with the code the server would
/// answer.
pub(super) fn check_email(
    typed: &str,
    approved: &[String],
) -> Result<String, (ErrorCode, FieldError)> {
    let refused = match EmailAddress::parse_approved(typed, approved) {
        Ok(email) => return Ok(email.into_string()),
        Err(refused) => refused,
    };
    let message = match refused {
        _ if typed.trim().is_empty() => "Enter your email address.".to_owned(),
        ContactError::EmailNotApproved => {
            format!("Enter an email address at {}.", domains_list(approved))
        }
        ContactError::EmailMalformed | ContactError::MobileMalformed => {
            let example = approved.first().map_or("nhs.net", String::as_str);
            format!("Enter an email address in the correct format, like name@{example}.")
        }
    };
    Err((
        ErrorCode::from(refused),
        FieldError {
            field: EMAIL_FIELD,
            message,
        },
    ))
}

/// REG-2 / REG-3 together: the request to send, or one problem listing every input that
/// needs changing.
pub(super) fn check_details(
    choices: &[(u32, String); ANSWERS_NEEDED],
    email: &str,
    approved: &[String],
) -> Result<RegisterDetailsRequest, Problem> {
    match (check_choices(choices), check_email(email, approved)) {
        (Ok(answers), Ok(email)) => BoundedVec::new(answers)
            .map(|answers| RegisterDetailsRequest { answers, email })
            .map_err(|_| Problem::from_code(ErrorCode::QuestionsInvalid)),
        (choices, email) => {
            let code = match (&choices, &email) {
                (Err(_), _) => ErrorCode::QuestionsInvalid,
                (Ok(_), Err((code, _))) => *code,
                (Ok(_), Ok(_)) => ErrorCode::BadRequest,
            };
            let mut fields = choices.err().unwrap_or_default();
            fields.extend(email.err().map(|(_, field)| field));
            Err(Problem::from_code(code).on_fields(fields))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approved() -> Vec<String> {
        ["nhs.net", "nhs.uk", "gov.uk", "mod.uk"]
            .map(String::from)
            .to_vec()
    }

    fn four() -> [(u32, String); ANSWERS_NEEDED] {
        [1, 5, 7, 20].map(|id| (id, format!("answer {id}")))
    }

    fn fields(errors: &[FieldError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn reg_2_four_different_questions_each_answered_are_accepted() {
        let answers = check_choices(&four()).unwrap_or_default();
        let ids: Vec<u32> = answers.iter().map(|a| a.question_id).collect();
        assert_eq!(ids, [1, 5, 7, 20]);
    }

    #[test]
    fn reg_2_a_question_chosen_twice_is_refused_on_the_later_picker() {
        let mut twice = four();
        twice[2].0 = 1;
        let errors = check_choices(&twice).err().unwrap_or_default();
        assert_eq!(fields(&errors), ["question-3"]);
        assert!(errors[0].message.contains("same as question 1"));
    }

    #[test]
    fn reg_2_unchosen_questions_and_empty_or_long_answers_are_refused_on_their_inputs() {
        let mut wrong = four();
        wrong[0].0 = 0;
        wrong[1].1 = "   ".into();
        wrong[3].1 = "x".repeat(SECURITY_ANSWER_MAX_CHARS + 1);
        let errors = check_choices(&wrong).err().unwrap_or_default();
        assert_eq!(fields(&errors), ["question-1", "answer-2", "answer-4"]);
        let mut longest = four();
        longest[3].1 = "é".repeat(SECURITY_ANSWER_MAX_CHARS);
        assert!(check_choices(&longest).is_ok());
    }

    #[test]
    fn reg_3_only_well_formed_addresses_on_approved_domains_are_sent() {
        // The address the server keeps: trimmed, its domain lowercased (api-types' rule).
        assert_eq!(
            check_email(" ravi.patel@NHS.net ", &approved()),
            Ok("ravi.patel@nhs.net".to_owned())
        );
        assert!(check_email("r@trust.nhs.uk", &approved()).is_ok());
        for refused in ["r@evilnhs.net", "r@nhs.net.evil.com", "r@gmail.com"] {
            assert!(
                matches!(
                    check_email(refused, &approved()),
                    Err((ErrorCode::EmailNotApproved, _))
                ),
                "{refused:?}"
            );
        }
        for malformed in [
            "",
            "r",
            "@nhs.net",
            "r@",
            "a b@nhs.net",
            "r@@nhs.net",
            "r@nhs..net",
        ] {
            assert!(
                matches!(
                    check_email(malformed, &approved()),
                    Err((
                        ErrorCode::BadRequest,
                        FieldError {
                            field: EMAIL_FIELD,
                            ..
                        }
                    ))
                ),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn reg_3_the_refusal_names_the_approved_domains() {
        let refused = check_email("r@gmail.com", &approved()).err();
        assert!(
            refused.is_some_and(|(_, e)| e.message.contains("nhs.net, nhs.uk, gov.uk or mod.uk"))
        );
        assert_eq!(domains_list(&["nhs.net".to_owned()]), "nhs.net");
    }

    #[test]
    fn reg_2_reg_3_every_problem_is_listed_once_before_anything_is_sent() {
        let mut wrong = four();
        wrong[1].0 = 5;
        wrong[0].0 = 5;
        let problem = check_details(&wrong, "r@gmail.com", &approved()).err();
        let problem = problem.unwrap_or_else(Problem::network);
        assert!(problem.is(ErrorCode::QuestionsInvalid));
        assert_eq!(fields(&problem.field_errors()), ["question-2", "email"]);
        let email_only = check_details(&four(), "r@gmail.com", &approved()).err();
        assert!(email_only.is_some_and(|p| p.is(ErrorCode::EmailNotApproved)));
        let sent = check_details(&four(), "ravi.patel@nhs.net", &approved());
        assert!(sent.is_ok_and(
            |r| r.answers.as_slice().len() == ANSWERS_NEEDED && r.email == "ravi.patel@nhs.net"
        ));
    }
}
