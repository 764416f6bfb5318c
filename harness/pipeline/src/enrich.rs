//! Enrichment from the HTTP account-profile service (`GET {url}/accounts/{account_id}`), with a
//! per-account cache, a timeout per call, and retries with exponential backoff. When the service
//! stays down the batch is not committed: the worker backs off and retries it, `/healthz` reports
//! the outage, and nothing is lost or half-written.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

/// What the profile service says about an account.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    pub account_age_days: i32,
    pub risk_tier: String,
    pub country: String,
    /// `ok`, `not_found` (404: defaults used) or `disabled` (no service configured).
    #[serde(skip, default = "ok")]
    pub status: &'static str,
}

fn ok() -> &'static str {
    "ok"
}

impl Profile {
    fn fallback(status: &'static str) -> Self {
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
}

impl Enricher {
    pub fn new(base: Option<String>) -> Self {
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
        }
    }

    /// The profile of `account`, from the cache or the service.
    pub fn profile(&mut self, account: &str) -> Result<Profile, Unavailable> {
        if let Some(p) = self.cache.get(account) {
            return Ok(p.clone());
        }
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
