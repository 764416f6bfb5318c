//! Network faults: a toxic on (or a partition of) the fault proxies in front of the brokers or
//! Postgres. Healing removes exactly the toxics this fault added.

use async_trait::async_trait;
use faultline_proxy::{Proxy, Toxic, ToxicId};
use faultline_scenario::NetTarget;

use super::fault::{Fault, FaultEnv};
use crate::error::{Result, RunnerError};

/// A toxic (`Some`) or a partition (`None`) on the proxies of `target`.
pub struct Toxics {
    target: NetTarget,
    toxic: Option<Toxic>,
    added: Vec<(usize, Option<ToxicId>)>,
}

impl Toxics {
    pub fn new(target: NetTarget, toxic: Option<Toxic>) -> Self {
        Self {
            target,
            toxic,
            added: Vec::new(),
        }
    }

    /// (index into the env's proxy list, where len() means the Postgres proxy).
    fn proxies<'e>(&self, env: &FaultEnv<'e>) -> Result<Vec<(usize, &'e Proxy)>> {
        let missing = |what: &str| {
            RunnerError::Usage(format!(
                "no fault proxy in front of {what}: this backend or scenario runs without one"
            ))
        };
        Ok(match self.target {
            NetTarget::Kafka if env.kafka_proxies.is_empty() => return Err(missing("Kafka")),
            NetTarget::Kafka => env.kafka_proxies.iter().enumerate().collect(),
            NetTarget::Broker(id) => {
                let i = id as usize - 1;
                vec![(
                    i,
                    env.kafka_proxies
                        .get(i)
                        .ok_or_else(|| missing(&format!("broker {id}")))?,
                )]
            }
            NetTarget::Postgres => vec![(
                env.kafka_proxies.len(),
                env.postgres_proxy.ok_or_else(|| missing("Postgres"))?,
            )],
        })
    }
}

fn proxy_at<'e>(env: &FaultEnv<'e>, i: usize) -> Option<&'e Proxy> {
    env.kafka_proxies
        .get(i)
        .or(if i == env.kafka_proxies.len() {
            env.postgres_proxy
        } else {
            None
        })
}

#[async_trait]
impl Fault for Toxics {
    async fn inject(&mut self, env: &FaultEnv<'_>) -> Result<String> {
        let mut names = Vec::new();
        for (i, p) in self.proxies(env)? {
            let id = match &self.toxic {
                Some(t) => Some(p.add_toxic(t.clone())),
                None => {
                    p.set_enabled(false);
                    None
                }
            };
            self.added.push((i, id));
            names.push(p.name().to_string());
        }
        Ok(format!("proxy:{}", names.join("+")))
    }
    async fn heal(&mut self, env: &FaultEnv<'_>) -> Result<()> {
        for (i, id) in self.added.drain(..) {
            if let Some(p) = proxy_at(env, i) {
                match id {
                    Some(id) => p.remove_toxic(id),
                    None => p.set_enabled(true),
                }
            }
        }
        Ok(())
    }
    fn describe(&self) -> String {
        match &self.toxic {
            Some(t) => t.describe(),
            None => "partition: every connection closed and refused".into(),
        }
    }
}
