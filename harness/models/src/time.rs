//! RFC 3339 timestamps, reduced to what features need: the UTC instant.
//!
//! Events carry `created_at` as RFC 3339 in UTC. Offsets other than `Z`/`+00:00` are accepted and
//! converted, so a producer that sends local time still yields the right UTC hour. Parsing and
//! formatting are the `time` crate's; only the hour and weekday arithmetic is here.

use std::fmt;
use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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

/// Why a string is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an RFC 3339 timestamp like 2024-05-01T13:45:00Z: {reason}")]
pub struct TimestampError {
    input: String,
    reason: String,
}

impl FromStr for UtcTimestamp {
    type Err = TimestampError;

    /// Parses with the `time` crate's RFC 3339 parser, the one the workload validator uses too.
    /// Its leap second (`:60`) reads as the last nanosecond of the preceding second.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| TimestampError {
            input: s.to_string(),
            reason: e.to_string(),
        })?;
        Ok(UtcTimestamp {
            unix_seconds: parsed.unix_timestamp(),
        })
    }
}

impl fmt::Display for UtcTimestamp {
    /// Formats as `YYYY-MM-DDTHH:MM:SSZ`. An instant outside the years 0000-9999, which RFC 3339
    /// cannot write, shows as `@` and its Unix seconds instead.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = OffsetDateTime::from_unix_timestamp(self.unix_seconds)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok());
        match text {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}", self.unix_seconds),
        }
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
