//! Deliberately planted defects, so the harness can prove it catches each one. They exist only when
//! the crate is built with the `planted-defects` feature, and even then only the one named by
//! `FAULTLINE_DEFECT` is active. Each is a bug pipeline authors really write:
//!
//! - `commit-before-write`: the offset is committed in its own transaction before the data is written;
//!   a crash in between loses the batch.
//! - `non-idempotent-insert`: every record changes the balance, not only newly inserted transactions;
//!   a re-sent event is counted twice.
//! - `no-fencing`: the stored offset is overwritten without the compare-and-set; a zombie that lost its
//!   partition still commits, and offset ranges overlap.
//! - `drop-malformed`: records that fail validation are skipped with no DLQ record and no quarantine row.
//! - `balance-outside-tx`: balances are updated in a second transaction after the data commits; a
//!   crash in between leaves balances short.
//! - `ignore-revocation`: buffered records of revoked partitions are still written after a rebalance,
//!   and the worker trusts its in-memory position instead of the stored offset.

/// A planted defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    CommitBeforeWrite,
    NonIdempotentInsert,
    NoFencing,
    DropMalformed,
    BalanceOutsideTx,
    IgnoreRevocation,
}

impl Defect {
    pub const NAMES: [&'static str; 6] = [
        "commit-before-write",
        "non-idempotent-insert",
        "no-fencing",
        "drop-malformed",
        "balance-outside-tx",
        "ignore-revocation",
    ];

    /// Parses a defect name; refuses all of them when the feature is off.
    pub fn parse(name: &str) -> Result<Self, String> {
        let d = match name {
            "commit-before-write" => Defect::CommitBeforeWrite,
            "non-idempotent-insert" => Defect::NonIdempotentInsert,
            "no-fencing" => Defect::NoFencing,
            "drop-malformed" => Defect::DropMalformed,
            "balance-outside-tx" => Defect::BalanceOutsideTx,
            "ignore-revocation" => Defect::IgnoreRevocation,
            other => {
                return Err(format!(
                    "unknown defect `{other}`; expected one of {}",
                    Self::NAMES.join(", ")
                ))
            }
        };
        if cfg!(feature = "planted-defects") {
            Ok(d)
        } else {
            Err(format!("`{name}` is a planted defect and this binary was built without the `planted-defects` feature"))
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// True when `d` is the active defect.
pub fn active(cfg: Option<Defect>, d: Defect) -> bool {
    cfg!(feature = "planted-defects") && cfg == Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_or_are_refused_without_the_feature() {
        for name in Defect::NAMES {
            match Defect::parse(name) {
                Ok(d) => assert_eq!(d.as_str(), name),
                Err(e) => {
                    assert!(!cfg!(feature = "planted-defects") && e.contains("planted-defects"))
                }
            }
        }
        assert!(Defect::parse("kil")
            .unwrap_err()
            .contains("expected one of"));
    }
}
