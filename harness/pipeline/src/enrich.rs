//! Enrichment from the HTTP account-profile service (`GET {url}/accounts/{account_id}`), with a
//! per-account cache, a timeout per call, and retries with exponential backoff. What happens when
//! the service stays down is [`OnOutage`]: by default the batch is not committed (the worker backs
//! off and retries it, `/healthz` reports the outage, and nothing is lost or half-written); with
//! `FAULTLINE_ENRICH_FALLBACK=default` the transaction is scored on the default profile instead
//! ([`Profile::fallback`]: age 0, risk tier `unknown`, scored as `low`) and stored with
//! `enrichment_status = 'fallback'`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// What the profile service says about an account.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    pub account_age_days: i32,
    pub risk_tier: String,
    pub country: String,
    /// `ok`, `not_found` (404: defaults used), `disabled` (no service configured) or `fallback`
    /// (the service was down and [`OnOutage::Default`] used the defaults).
    #[serde(skip, default = "ok")]
    pub status: &'static str,
}

fn ok() -> &'static str {
    "ok"
}

/// What a lookup does when the service does not answer usefully after every retry
/// (`FAULTLINE_ENRICH_FALLBACK`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnOutage {
    /// `retry` (the default): fail the lookup, so the batch is retried until the service is back.
    #[default]
    Retry,
    /// `default`: answer the default profile with status `fallback`, uncached; for
    /// [`FALLBACK_COOLDOWN`] after a failed lookup, uncached accounts get it without a call.
    Default,
}

impl OnOutage {
    /// The value of `FAULTLINE_ENRICH_FALLBACK`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "retry" => Ok(OnOutage::Retry),
            "default" => Ok(OnOutage::Default),
            other => Err(format!("`{other}`; expected retry or default")),
        }
    }
}

/// How long [`OnOutage::Default`] answers the default profile without calling after a failure.
pub const FALLBACK_COOLDOWN: Duration = Duration::from_secs(1);

impl Profile {
    /// The default profile, with `status` saying why it was used: a new account (age 0) of risk
    /// tier `unknown`, which models score as `low` (faultline-models' `with_default_profile`).
    pub fn fallback(status: &'static str) -> Self {
        Self {
            account_age_days: 0,
            risk_tier: "unknown".into(),
            country: "ZZ".into(),
            status,
        }
    }
}

/// The service did not answer usefully after every retry.
#[derive(Debug, thiserror::Error)]
#[error("account-profile service unavailable for {account}: {cause}")]
pub struct Unavailable {
    pub account: String,
    pub cause: String,
}

/// A caching client.
pub struct Enricher {
    base: Option<String>,
    agent: ureq::Agent,
    cache: HashMap<String, Profile>,
    retries: u32,
    backoff: Duration,
    on_outage: OnOutage,
    /// With [`OnOutage::Default`]: until when lookups of uncached accounts skip the service.
    down_until: Option<Instant>,
}

impl Enricher {
    pub fn new(base: Option<String>, on_outage: OnOutage) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(800)))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            base: base.map(|b| b.trim_end_matches('/').to_string()),
            agent,
            cache: HashMap::new(),
            retries: 3,
            backoff: Duration::from_millis(50),
            on_outage,
            down_until: None,
        }
    }

    /// The profile of `account`, from the cache or the service; when the service stays down,
    /// what [`OnOutage`] says.
    pub fn profile(&mut self, account: &str) -> Result<Profile, Unavailable> {
        if let Some(p) = self.cache.get(account) {
            return Ok(p.clone());
        }
        if self.down_until.is_some_and(|t| Instant::now() < t) {
            return Ok(Profile::fallback("fallback"));
        }
        match (self.lookup(account), self.on_outage) {
            (Err(_), OnOutage::Default) => {
                self.down_until = Some(Instant::now() + FALLBACK_COOLDOWN);
                Ok(Profile::fallback("fallback"))
            }
            (result, _) => result,
        }
    }

    /// One lookup with its retries; a useful answer is cached.
    fn lookup(&mut self, account: &str) -> Result<Profile, Unavailable> {
        let Some(base) = &self.base else {
            return Ok(Profile::fallback("disabled"));
        };
        let url = format!("{base}/accounts/{account}");
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                std::thread::sleep(self.backoff * 2u32.pow(attempt - 1));
            }
            match self.agent.get(&url).call() {
                Ok(mut resp) if resp.status() == 200 => {
                    match resp.body_mut().read_json::<Profile>() {
                        Ok(p) => {
                            self.cache.insert(account.to_string(), p.clone());
                            return Ok(p);
                        }
                        Err(e) => last = format!("bad profile JSON: {e}"),
                    }
                }
                Ok(resp) if resp.status() == 404 => {
                    let p = Profile::fallback("not_found");
                    self.cache.insert(account.to_string(), p.clone());
                    return Ok(p);
                }
                Ok(resp) => last = format!("HTTP {}", resp.status()),
                Err(e) => last = e.to_string(),
            }
        }
        Err(Unavailable {
            account: account.to_string(),
            cause: last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A port nothing listens on: every call fails at once.
    fn closed() -> Option<String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        Some(format!("http://127.0.0.1:{port}"))
    }

    #[test]
    fn an_outage_fails_the_lookup_unless_the_default_profile_is_asked_for() {
        let e = Enricher::new(closed(), OnOutage::Retry)
            .profile("acct-1")
            .unwrap_err();
        assert_eq!(e.account, "acct-1");
        let mut fallback = Enricher::new(closed(), OnOutage::Default);
        for account in ["acct-1", "acct-2"] {
            let p = fallback.profile(account).unwrap();
            assert_eq!(p, Profile::fallback("fallback"));
            assert_eq!(
                (p.status, p.account_age_days, p.risk_tier.as_str()),
                ("fallback", 0, "unknown")
            );
        }
        assert!(
            fallback.down_until.is_some(),
            "the failure opened the cooldown"
        );
        assert!(fallback.cache.is_empty(), "a fallback is never cached");
        assert_eq!(OnOutage::parse("default"), Ok(OnOutage::Default));
        assert!(OnOutage::parse("defaults")
            .unwrap_err()
            .contains("retry or default"));
    }
}
