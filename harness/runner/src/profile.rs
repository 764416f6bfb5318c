//! The account profile the enrichment double serves: a fixed function of the account id, shared by
//! the double (what the pipeline sees) and the comparison's labels (what the harness expects).

/// The profile the double serves for one account when healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountProfile {
    pub account_age_days: u32,
    /// `low` (half of the accounts), `medium` or `high` (a quarter each).
    pub risk_tier: &'static str,
    pub country: &'static str,
}

/// The double's answer for `account`: a fixed function of the id, so the harness knows every
/// profile the pipeline saw without asking (the live comparison's labels are built from it).
pub fn profile_of(account: &str) -> AccountProfile {
    let h = account
        .bytes()
        .fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
    AccountProfile {
        account_age_days: (h % 3000) as u32,
        risk_tier: ["low", "low", "medium", "high"][(h % 4) as usize],
        country: "NL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_a_fixed_function_of_the_account() {
        assert_eq!(profile_of("acct-000042"), profile_of("acct-000042"));
        let tiers: std::collections::BTreeSet<_> = (0..200)
            .map(|i| profile_of(&format!("acct-{i:06}")).risk_tier)
            .collect();
        assert_eq!(
            tiers.into_iter().collect::<Vec<_>>(),
            ["high", "low", "medium"]
        );
        assert!((0..200).all(|i| profile_of(&format!("acct-{i:06}")).account_age_days < 3000));
    }
}
