//! REG-2: what a registration accepts, as a pure function: four different offered
//! questions with answers (the email's rule is the kernel's, [`crate::flow::contact`]).

use std::collections::HashSet;

use api_types::register::ANSWERS_NEEDED;
use api_types::unlock::Answer;

use crate::AppError;

/// Exactly [`ANSWERS_NEEDED`] answers, to different questions that are offered, none
/// empty once normalised.
pub fn check_answers(answers: &[Answer], offered: &HashSet<i64>) -> Result<(), AppError> {
    let ids: HashSet<i64> = answers.iter().map(|a| i64::from(a.question_id)).collect();
    let complete = answers.len() == ANSWERS_NEEDED && ids.len() == ANSWERS_NEEDED;
    let known = ids.iter().all(|id| offered.contains(id));
    let filled = answers
        .iter()
        .all(|a| !crate::secrets::normalise_answer(a.answer.expose()).is_empty());
    if complete && known && filled {
        Ok(())
    } else {
        Err(AppError::QuestionsInvalid)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use api_types::values::SecurityAnswer;

    fn answer(id: u32, text: &str) -> Answer {
        Answer {
            question_id: id,
            answer: SecurityAnswer::parse(text).unwrap(),
        }
    }

    #[test]
    fn reg_2_four_different_offered_questions_each_answered() {
        let offered: HashSet<i64> = (1..=20).collect();
        let four = [
            answer(1, "a"),
            answer(2, "b"),
            answer(3, "c"),
            answer(4, "d"),
        ];
        assert!(check_answers(&four, &offered).is_ok());
        let twice = [
            answer(1, "a"),
            answer(1, "b"),
            answer(3, "c"),
            answer(4, "d"),
        ];
        assert!(check_answers(&twice, &offered).is_err());
        assert!(check_answers(&four[..3], &offered).is_err());
        let unknown = [
            answer(1, "a"),
            answer(2, "b"),
            answer(3, "c"),
            answer(21, "d"),
        ];
        assert!(check_answers(&unknown, &offered).is_err());
        let blank = [
            answer(1, "a"),
            answer(2, "   "),
            answer(3, "c"),
            answer(4, "d"),
        ];
        assert!(check_answers(&blank, &offered).is_err());
    }
}
