//! The account-profile service the reference pipeline enriches from, as a wiremock double whose
//! behaviour the enrichment faults switch: healthy, answering an error status, or answering late.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::profile::profile_of;

/// The switchable behaviour, shared by the server and the faults.
#[derive(Debug, Default)]
struct Behaviour {
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
    pub(crate) fn fail_with(&self, status: u16) {
        self.behaviour.status.store(status, Ordering::SeqCst);
    }

    /// Answer `ms` late until [`heal`](Self::heal).
    pub(crate) fn delay(&self, ms: u64) {
        self.behaviour.latency_ms.store(ms, Ordering::SeqCst);
    }

    pub(crate) fn heal(&self) {
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
