//! The account-profile service the reference pipeline enriches from, as a wiremock double whose
//! behaviour the enrichment faults switch: healthy, answering an error status, or answering late.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The switchable behaviour, shared by the server and the faults.
#[derive(Debug, Default)]
pub struct Behaviour {
    /// 0 = healthy, else the status to answer.
    status: AtomicU16,
    latency_ms: AtomicU64,
}

/// The running profile service.
pub struct ProfileService {
    server: MockServer,
    behaviour: Arc<Behaviour>,
}

impl ProfileService {
    pub async fn start() -> Self {
        let behaviour = Arc::new(Behaviour::default());
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path_regex("^/accounts/[^/]+$"))
            .respond_with(Profiles(behaviour.clone()))
            .mount(&server)
            .await;
        Self { server, behaviour }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Answer `status` to every request until [`heal`](Self::heal).
    pub fn fail_with(&self, status: u16) {
        self.behaviour.status.store(status, Ordering::SeqCst);
    }

    /// Answer `ms` late until [`heal`](Self::heal).
    pub fn delay(&self, ms: u64) {
        self.behaviour.latency_ms.store(ms, Ordering::SeqCst);
    }

    pub fn heal(&self) {
        self.behaviour.status.store(0, Ordering::SeqCst);
        self.behaviour.latency_ms.store(0, Ordering::SeqCst);
    }

    /// Requests served so far.
    pub async fn requests(&self) -> usize {
        self.server
            .received_requests()
            .await
            .map(|r| r.len())
            .unwrap_or(0)
    }
}

/// A deterministic profile per account: the same account always gets the same answer.
struct Profiles(Arc<Behaviour>);

impl Respond for Profiles {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let status = self.0.status.load(Ordering::SeqCst);
        let latency = Duration::from_millis(self.0.latency_ms.load(Ordering::SeqCst));
        if status != 0 {
            return ResponseTemplate::new(status)
                .set_body_string("injected outage")
                .set_delay(latency);
        }
        let account = req.url.path().rsplit('/').next().unwrap_or_default();
        let p = profile_of(account);
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({ "account_age_days": p.account_age_days, "risk_tier": p.risk_tier, "country": p.country }))
            .set_delay(latency)
    }
}

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
