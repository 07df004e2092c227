//! POL-1: the policy profile — the seeds' rules (`seed-2006`, the default) or the NHS's
//! since 2023 (`nhs-2023`). One setting on the server, told to the page by
//! `/api/config`, so both judge a rule the same way.

use serde::{Deserialize, Serialize};

use crate::passcode::CardPasscode;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Policy {
    /// Every SPEC rule as written (seeds 000–004).
    #[default]
    #[serde(rename = "seed-2006")]
    Seed2006,
    /// The NHS Care Identity Service's rules since 2023 (POL-2…POL-4).
    #[serde(rename = "nhs-2023")]
    Nhs2023,
}

impl Policy {
    pub const ALL: [Policy; 2] = [Policy::Seed2006, Policy::Nhs2023];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seed2006 => "seed-2006",
            Self::Nhs2023 => "nhs-2023",
        }
    }

    /// CERT-2 / POL-4: days before the login certificate ends that self-service renewal
    /// is offered.
    pub fn renewal_offered_days(self) -> i64 {
        match self {
            Self::Seed2006 => 30,
            Self::Nhs2023 => 90,
        }
    }

    /// CERT-2: days before the end from which sign-in leads to renewal first; none under
    /// `nhs-2023` (POL-4: the user may always decline).
    pub fn renewal_forced_days(self) -> Option<i64> {
        match self {
            Self::Seed2006 => Some(20),
            Self::Nhs2023 => None,
        }
    }

    /// CARD-2 / POL-2: whether a new card passcode follows the profile — any 4–8 keyboard
    /// characters under `seed-2006` (the card's own rule), 6–8 digits under `nhs-2023`. A
    /// card's existing passcode keeps working until it is changed.
    pub fn allows_new_card_passcode(self, passcode: &CardPasscode) -> bool {
        let text = passcode.expose();
        match self {
            Self::Seed2006 => true,
            Self::Nhs2023 => {
                (6..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
            }
        }
    }

    /// POL-2: the rule for a new card passcode, in the page's words.
    pub fn new_card_passcode_rule(self) -> &'static str {
        match self {
            Self::Seed2006 => {
                "The passcode must be between 4 and 8 characters long. You can use any \
                 standard keyboard characters."
            }
            Self::Nhs2023 => "The passcode must be 6, 7 or 8 digits.",
        }
    }

    /// CERT-4: self-service renewals in a row before the RA must renew; no limit under
    /// `nhs-2023` (POL-4).
    pub fn self_service_renewals_in_a_row(self) -> Option<i64> {
        match self {
            Self::Seed2006 => Some(2),
            Self::Nhs2023 => None,
        }
    }
}

const DAY: i64 = 24 * 60 * 60;

/// CERT-2 / CERT-4 / POL-4: what is due for a card's login certificate, as the server
/// decides it and the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum RenewalDue {
    /// Nothing yet (or no certificate to renew).
    NotDue,
    /// The user may renew now, or decline until the next sign-in.
    Offered { not_after: i64 },
    /// CERT-2: sign-in leads to renewal before anything else.
    Forced { not_after: i64 },
    /// CERT-4: the third renewal in a row, or (POL-4) an expired certificate: the RA's.
    ByRa { not_after: i64 },
}

/// CERT-2 / POL-4: the dates that matter for a login certificate (My card's timeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalDates {
    /// Renewal offered (and reminders mailed) from then.
    pub offered_from: i64,
    /// Sign-in leads to renewal from then; none under `nhs-2023`.
    pub forced_from: Option<i64>,
    /// The certificate ends: only the RA renews it after.
    pub not_after: i64,
}

impl Policy {
    /// The dates for a login certificate ending at `not_after`.
    pub fn renewal_dates(self, not_after: i64) -> RenewalDates {
        RenewalDates {
            offered_from: not_after - self.renewal_offered_days() * DAY,
            forced_from: self
                .renewal_forced_days()
                .map(|days| not_after - days * DAY),
            not_after,
        }
    }

    /// What is due for a login certificate ending at `not_after` (none: no certificate),
    /// on a card renewed `in_a_row` times by self-service since the RA last did it.
    pub fn renewal_due(self, not_after: Option<i64>, in_a_row: i64, now: i64) -> RenewalDue {
        let Some(not_after) = not_after else {
            return RenewalDue::NotDue;
        };
        let dates = self.renewal_dates(not_after);
        let over_count = self
            .self_service_renewals_in_a_row()
            .is_some_and(|limit| in_a_row >= limit);
        if now >= not_after {
            RenewalDue::ByRa { not_after }
        } else if now < dates.offered_from {
            RenewalDue::NotDue
        } else if over_count {
            RenewalDue::ByRa { not_after }
        } else if dates.forced_from.is_some_and(|from| now >= from) {
            RenewalDue::Forced { not_after }
        } else {
            RenewalDue::Offered { not_after }
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|policy| policy.as_str() == text)
            .ok_or_else(|| format!("must be one of: {}", Self::ALL.map(Self::as_str).join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pol_2_new_card_passcodes_follow_the_profile() {
        let allows = |policy: Policy, text: &str| {
            CardPasscode::parse(text).is_ok_and(|p| policy.allows_new_card_passcode(&p))
        };
        for text in ["abcd", "Ab3!", "12345678", "1234"] {
            assert!(allows(Policy::Seed2006, text), "{text}");
        }
        for text in ["123456", "1234567", "12345678"] {
            assert!(allows(Policy::Nhs2023, text), "{text}");
        }
        for text in ["12345", "1234", "abcdef", "12345a", "123 456"] {
            assert!(!allows(Policy::Nhs2023, text), "{text}");
        }
    }

    #[test]
    fn pol_1_names_on_the_wire_and_in_settings_agree() {
        for policy in Policy::ALL {
            let json = serde_json::to_string(&policy).unwrap();
            assert_eq!(json, format!("\"{}\"", policy.as_str()));
            assert_eq!(policy.as_str().parse::<Policy>(), Ok(policy));
        }
        assert!("nhs-2024".parse::<Policy>().is_err());
        assert_eq!(Policy::default(), Policy::Seed2006);
    }

    const NOW: i64 = 1_900_000_000;

    /// The days (from `NOW`) on which a certificate ending 100 days out is in `state`.
    fn days_when(policy: Policy, in_a_row: i64, state: fn(RenewalDue) -> bool) -> Vec<i64> {
        let not_after = NOW + 100 * DAY;
        (0..=101)
            .filter(|day| state(policy.renewal_due(Some(not_after), in_a_row, NOW + day * DAY)))
            .collect()
    }

    #[test]
    fn cert_2_seed_offers_from_30_days_and_forces_from_20() {
        let p = Policy::Seed2006;
        let offered = days_when(p, 0, |d| matches!(d, RenewalDue::Offered { .. }));
        let forced = days_when(p, 0, |d| matches!(d, RenewalDue::Forced { .. }));
        assert_eq!(offered, (70..80).collect::<Vec<_>>());
        assert_eq!(forced, (80..100).collect::<Vec<_>>());
        // The edges to the second.
        let ends = NOW + 30 * DAY;
        assert!(matches!(
            p.renewal_due(Some(ends), 0, NOW - 1),
            RenewalDue::NotDue
        ));
        assert!(matches!(
            p.renewal_due(Some(ends), 0, NOW),
            RenewalDue::Offered { .. }
        ));
        assert!(matches!(
            p.renewal_due(Some(ends), 0, ends - 20 * DAY - 1),
            RenewalDue::Offered { .. }
        ));
        assert!(matches!(
            p.renewal_due(Some(ends), 0, ends - 20 * DAY),
            RenewalDue::Forced { .. }
        ));
        assert!(matches!(
            p.renewal_due(Some(ends), 0, ends),
            RenewalDue::ByRa { .. }
        ));
    }

    #[test]
    fn cert_4_seed_third_renewal_in_a_row_is_the_ras() {
        let p = Policy::Seed2006;
        let by_ra = days_when(p, 2, |d| matches!(d, RenewalDue::ByRa { .. }));
        assert_eq!(by_ra, (70..=101).collect::<Vec<_>>());
        assert_eq!(
            days_when(p, 1, |d| matches!(d, RenewalDue::ByRa { .. })),
            vec![100, 101]
        );
    }

    #[test]
    fn pol_4_nhs_offers_from_90_days_never_forces_never_counts_expired_is_the_ras() {
        let p = Policy::Nhs2023;
        for in_a_row in [0, 2, 50] {
            let offered = days_when(p, in_a_row, |d| matches!(d, RenewalDue::Offered { .. }));
            assert_eq!(offered, (10..100).collect::<Vec<_>>(), "{in_a_row}");
            assert!(days_when(p, in_a_row, |d| matches!(d, RenewalDue::Forced { .. })).is_empty());
            let by_ra = days_when(p, in_a_row, |d| matches!(d, RenewalDue::ByRa { .. }));
            assert_eq!(by_ra, vec![100, 101]);
        }
        assert_eq!(p.renewal_due(None, 0, NOW), RenewalDue::NotDue);
    }

    #[test]
    fn renewal_due_on_the_wire() {
        let json = serde_json::to_string(&RenewalDue::Forced { not_after: 5 }).unwrap();
        assert_eq!(json, r#"{"state":"forced","not_after":5}"#);
        assert_eq!(
            serde_json::to_string(&RenewalDue::NotDue).unwrap(),
            r#"{"state":"not_due"}"#
        );
    }
}
