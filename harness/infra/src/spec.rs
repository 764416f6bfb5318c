//! What to start. Shared by every backend; scenario files and CLI flags map onto it.

use crate::error::InfraError;

/// The backend choice is scenario data (`[infra] backend`); it lives with the scenario schema.
pub use faultline_scenario::BackendKind;

/// The stack to start.
#[derive(Debug, Clone)]
pub struct StackSpec {
    /// 1 (default) or 3. Three brokers run KRaft in combined mode with RF=3 and `min.insync.replicas=2`.
    pub brokers: u32,
    /// Per broker (index = broker id - 1), the `host:port` clients are told to use instead of the
    /// broker's own listener, e.g. a fault proxy in front of it. `None` keeps the broker's address.
    /// With any override, `start` returns once every broker has started, without a metadata probe
    /// (clients follow advertised addresses, which are not wired yet): wire them, then call
    /// [`crate::ready::wait_for_kafka`] on `bootstrap_servers()`.
    pub advertised: Vec<Option<String>>,
    /// A label for names (topics, containers, temp dirs) so concurrent runs never collide.
    pub run_id: String,
}

impl Default for StackSpec {
    fn default() -> Self {
        Self {
            brokers: 1,
            advertised: Vec::new(),
            run_id: new_run_id(),
        }
    }
}

impl StackSpec {
    /// A single-broker stack.
    pub fn single() -> Self {
        Self::default()
    }

    /// A three-broker KRaft cluster.
    pub fn cluster() -> Self {
        Self {
            brokers: 3,
            ..Self::default()
        }
    }

    /// Checks the broker count and the advertised overrides.
    pub fn validate(&self) -> Result<(), InfraError> {
        if self.brokers != 1 && self.brokers != 3 {
            return Err(InfraError::InvalidValue {
                field: "brokers".into(),
                value: self.brokers.to_string(),
                expected: "expected 1 or 3".into(),
            });
        }
        if self.advertised.len() > self.brokers as usize {
            return Err(InfraError::InvalidValue {
                field: "advertised".into(),
                value: format!("{} entries", self.advertised.len()),
                expected: format!("at most one per broker ({})", self.brokers),
            });
        }
        for a in self.advertised.iter().flatten() {
            let ok = a
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(InfraError::InvalidValue {
                    field: "advertised".into(),
                    value: a.clone(),
                    expected: "expected HOST:PORT".into(),
                });
            }
        }
        Ok(())
    }

    /// The advertised override for broker `id` (1-based), if any.
    pub fn advertised_for(&self, id: u32) -> Option<&str> {
        self.advertised
            .get(id as usize - 1)
            .and_then(|a| a.as_deref())
    }
}

/// A short random id: lowercase letters and digits, safe in topic, container and directory names.
pub fn new_run_id() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_rejects_two_brokers_and_bad_advertised_addresses() {
        let two = StackSpec {
            brokers: 2,
            ..StackSpec::single()
        };
        assert!(two
            .validate()
            .unwrap_err()
            .to_string()
            .contains("expected 1 or 3"));
        let bad = StackSpec {
            advertised: vec![Some("proxy-no-port".into())],
            ..StackSpec::single()
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("HOST:PORT"));
        let good = StackSpec {
            advertised: vec![None, Some("127.0.0.1:7000".into())],
            ..StackSpec::cluster()
        };
        good.validate().unwrap();
        assert_eq!(good.advertised_for(2), Some("127.0.0.1:7000"));
        assert_eq!(good.advertised_for(1), None);
    }
}
