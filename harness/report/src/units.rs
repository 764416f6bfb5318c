//! Number and duration formatting shared by the writers, with fixed decimals so output is
//! byte-stable across platforms.

/// Milliseconds as seconds with three decimals, e.g. `61.200` (JUnit's `time`).
pub fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// A duration for people: `850 ms`, `61.2 s`, `2 m 03 s`, `1 h 02 m`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{}.{} s", s, (ms % 1000) / 100),
        60_000..=3_599_999 => format!("{} m {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} m", s / 3600, (s / 60) % 60),
    }
}

/// A count with thousands separators: `30,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A short axis label: `0`, `250`, `1.5k`, `12k`, `2.5M`.
pub fn compact(v: f64) -> String {
    let (scaled, suffix) = match v.abs() {
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let rounded = (scaled * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}{suffix}")
    } else {
        format!("{rounded:.1}{suffix}")
    }
}

/// The smallest "nice" number (one of `multipliers`, each in [1, 10), × 10ⁿ) that is at least `x`;
/// used for axis steps.
pub fn nice_step(x: f64, multipliers: &[f64]) -> f64 {
    if x.is_nan() || x <= 0.0 || x.is_infinite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    multipliers
        .iter()
        .chain([10.0].iter())
        .map(|m| m * magnitude)
        .find(|step| *step >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_fixed() {
        assert_eq!(seconds(61_200), "61.200");
        assert_eq!(seconds(7), "0.007");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(61_249), "1 m 01 s");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(3_720_000), "1 h 02 m");
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(compact(1500.0), "1.5k");
        assert_eq!(compact(12_000.0), "12k");
        assert_eq!(compact(250.0), "250");
    }

    #[test]
    fn nice_steps_are_one_two_five() {
        let ones = [1.0, 2.0, 5.0];
        assert_eq!(nice_step(0.7, &ones), 1.0);
        assert_eq!(nice_step(3.0, &ones), 5.0);
        assert_eq!(nice_step(12.0, &ones), 20.0);
        assert_eq!(nice_step(50.0, &ones), 50.0);
        assert_eq!(nice_step(0.0, &ones), 1.0);
        assert_eq!(nice_step(225.0, &[1.0, 2.0, 2.5, 5.0]), 250.0);
        assert_eq!(nice_step(600.0, &ones), 1000.0);
    }
}
