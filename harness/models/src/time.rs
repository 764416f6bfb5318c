//! RFC 3339 timestamps, reduced to what features need: the UTC instant.
//!
//! Events carry `created_at` as RFC 3339 in UTC. Offsets other than `Z`/`+00:00` are accepted and
//! converted, so a producer that sends local time still yields the right UTC hour.

use std::fmt;
use std::str::FromStr;

/// A UTC instant with second precision (sub-second digits are accepted and dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTimestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix_seconds: i64,
}

impl UtcTimestamp {
    /// The instant `unix_seconds` after the epoch.
    pub fn from_unix(unix_seconds: i64) -> Self {
        UtcTimestamp { unix_seconds }
    }

    /// Hour of day in UTC, 0..=23.
    pub fn hour(&self) -> u32 {
        (self.unix_seconds.rem_euclid(86_400) / 3_600) as u32
    }

    /// Day of week in UTC, 0 = Monday .. 6 = Sunday.
    pub fn weekday(&self) -> u32 {
        // 1970-01-01 was a Thursday (index 3).
        (self.unix_seconds.div_euclid(86_400) + 3).rem_euclid(7) as u32
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date for a day count from 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Why a string is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an RFC 3339 timestamp like 2024-05-01T13:45:00Z: {reason}")]
pub struct TimestampError {
    input: String,
    reason: &'static str,
}

impl FromStr for UtcTimestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| TimestampError {
            input: s.to_string(),
            reason,
        };
        let b = s.as_bytes();
        if b.len() < 20 {
            return Err(err("too short"));
        }
        let num = |range: std::ops::Range<usize>| -> Result<u32, TimestampError> {
            let part = &b[range];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(err("expected digits"));
            }
            Ok(part
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
        };
        if b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(err("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let year = i64::from(num(0..4)?);
        let (month, day) = (num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(err("date out of range"));
        }
        // Second 60 is a leap second: fold it onto the next second as most systems do.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(err("time out of range"));
        }
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(err("expected digits after the decimal point"));
            }
            rest = &rest[1 + digits..];
        }
        let offset_seconds: i64 = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let digits = [*h1, *h2, *m1, *m2];
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(err("malformed offset"));
                }
                let h = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
                let m = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
                if h > 23 || m > 59 {
                    return Err(err("offset out of range"));
                }
                let magnitude = h * 3_600 + m * 60;
                if *sign == b'+' {
                    magnitude
                } else {
                    -magnitude
                }
            }
            _ => return Err(err("expected `Z` or an offset like +02:00 after the time")),
        };
        let local = days_from_civil(year, month, day) * 86_400
            + i64::from(hour) * 3_600
            + i64::from(minute) * 60
            + i64::from(second);
        Ok(UtcTimestamp {
            unix_seconds: local - offset_seconds,
        })
    }
}

impl fmt::Display for UtcTimestamp {
    /// Formats as `YYYY-MM-DDTHH:MM:SSZ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3_600,
            secs % 3_600 / 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_utc_and_converts_offsets() {
        let t: UtcTimestamp = "2024-05-01T13:45:10Z".parse().unwrap();
        assert_eq!(t.unix_seconds, 1_714_571_110);
        assert_eq!(t.hour(), 13);
        assert_eq!(t.weekday(), 2, "2024-05-01 was a Wednesday");
        let shifted: UtcTimestamp = "2024-05-01T15:45:10.123+02:00".parse().unwrap();
        assert_eq!(shifted, t);
        let before_midnight: UtcTimestamp = "2024-05-01T23:30:00-01:00".parse().unwrap();
        assert_eq!(before_midnight.hour(), 0);
        assert_eq!(before_midnight.to_string(), "2024-05-02T00:30:00Z");
    }

    #[test]
    fn rejects_malformed_input_with_a_reason() {
        for bad in [
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T10:00:00",
            "2024-05-01T10:00:00+2",
        ] {
            let e = bad.parse::<UtcTimestamp>().unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(secs in -2_000_000_000i64..4_000_000_000i64) {
            let t = UtcTimestamp::from_unix(secs);
            prop_assert_eq!(t.to_string().parse::<UtcTimestamp>().unwrap(), t);
        }
    }
}
