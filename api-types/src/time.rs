//! Times for people: unix seconds shown as UTC, the same on the page, in exports and in
//! mail.

/// `2026-11-23` for unix seconds (UTC).
pub fn utc_date(unix: i64) -> String {
    let (year, month, day) = civil(unix.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// `2026-11-23 14:05:09` for unix seconds (UTC).
pub fn utc_date_time(unix: i64) -> String {
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        utc_date(unix),
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Year, month, day from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Unix seconds of midnight UTC starting `2026-11-23`, if it is such a date.
pub fn parse_utc_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (the inverse of `civil`).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    // 2026-02-31 is not a date: it must come back as itself.
    (civil(days) == (year, month, day)).then_some(days * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_and_write_utc() {
        assert_eq!(utc_date_time(0), "1970-01-01 00:00:00");
        assert_eq!(utc_date_time(1_795_437_909), "2026-11-23 12:45:09");
        assert_eq!(parse_utc_date("2026-11-23"), Some(1_795_392_000));
        assert_eq!(parse_utc_date("2026-02-31"), None);
        assert_eq!(parse_utc_date("yesterday"), None);
        for day in [0, 11_000, 20_415, 2_932_896] {
            assert_eq!(parse_utc_date(&utc_date(day * 86_400)), Some(day * 86_400));
        }
    }
}
