//! `Guarantee`: the delivery guarantee a pipeline declares for its outputs, in its manifest
//! (harness/manifest). Here, in the data-only scenario crate, so the oracle can judge by it without
//! depending on manifests.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How often each output of one input record may appear. Judges the dead-letter topic: every
/// rejected record must be there at least once in all cases; a second copy is a violation only
/// under `exactly_once`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guarantee {
    /// Each output exactly once, under any fault. The default.
    #[default]
    ExactlyOnce,
    /// Each output's effect once (duplicates are possible but the consumer is expected to
    /// de-duplicate them); copies are reported, not failed.
    EffectivelyOnce,
    /// Each output at least once; copies are reported, not failed.
    AtLeastOnce,
}

impl Guarantee {
    /// Every guarantee, as written in TOML.
    pub const ALL: [&'static str; 3] = ["exactly_once", "effectively_once", "at_least_once"];

    /// The TOML spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Guarantee::ExactlyOnce => "exactly_once",
            Guarantee::EffectivelyOnce => "effectively_once",
            Guarantee::AtLeastOnce => "at_least_once",
        }
    }

    /// Whether a second copy of one output breaks the guarantee.
    pub fn forbids_duplicates(self) -> bool {
        self == Guarantee::ExactlyOnce
    }
}

impl fmt::Display for Guarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Guarantee;

    #[derive(serde::Deserialize)]
    struct Holder {
        g: Guarantee,
    }

    #[test]
    fn guarantees_read_as_snake_case_and_only_exactly_once_forbids_copies() {
        for (text, want) in Guarantee::ALL.iter().zip([
            Guarantee::ExactlyOnce,
            Guarantee::EffectivelyOnce,
            Guarantee::AtLeastOnce,
        ]) {
            let h: Holder = toml::from_str(&format!("g = \"{text}\"")).unwrap();
            assert_eq!(h.g, want);
            assert_eq!(want.as_str(), *text);
        }
        assert!(toml::from_str::<Holder>("g = \"exactlyOnce\"").is_err());
        assert_eq!(Guarantee::default(), Guarantee::ExactlyOnce);
        assert!(Guarantee::ExactlyOnce.forbids_duplicates());
        assert!(!Guarantee::AtLeastOnce.forbids_duplicates());
        assert!(!Guarantee::EffectivelyOnce.forbids_duplicates());
    }
}
