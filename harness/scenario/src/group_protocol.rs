//! `GroupProtocol`: which Kafka consumer group protocol the pipeline's workers speak, the classic
//! one (JoinGroup/SyncGroup, client-side assignment, generations) or KIP-848's `consumer`
//! (server-side incremental assignment, member epochs).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The session timeout of a `consumer` group on the brokers faultline starts
/// (`group.consumer.session.timeout.ms`): the reference ledger's classic default, so a paused
/// worker turns into a zombie after the same time under either protocol.
pub const CONSUMER_SESSION_TIMEOUT_MS: u64 = 6_000;
/// The heartbeat interval of a `consumer` group on those brokers
/// (`group.consumer.heartbeat.interval.ms`): the ledger's classic `heartbeat.interval.ms`.
pub const CONSUMER_HEARTBEAT_INTERVAL_MS: u64 = 1_000;

/// `[pipeline] group_protocol`, or `faultline run --group-protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupProtocol {
    /// JoinGroup/SyncGroup with a client-side assignor; the session timeout is the client's.
    #[default]
    Classic,
    /// KIP-848: the group coordinator assigns partitions incrementally; the session timeout and
    /// heartbeat interval are the broker's (or the group's) settings, not the client's.
    Consumer,
}

impl GroupProtocol {
    /// Every protocol, as written in TOML and on the command line.
    pub const ALL: [&'static str; 2] = ["classic", "consumer"];

    /// The TOML spelling, which is also the value of Kafka's `group.protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classic => "classic",
            Self::Consumer => "consumer",
        }
    }
}

impl fmt::Display for GroupProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupProtocol {
    type Err = UnknownGroupProtocol;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "classic" => Ok(Self::Classic),
            "consumer" => Ok(Self::Consumer),
            _ => Err(UnknownGroupProtocol(s.into())),
        }
    }
}

/// Why `protocol` cannot run a scenario whose `[pipeline.knobs]` set `session_timeout_ms`, if
/// it cannot: under `consumer` the session timeout is the broker's, set once for every group
/// (rust-rdkafka has no IncrementalAlterConfigs for a per-group value), so a knob asking for
/// another value would not bite.
pub fn session_knob_conflict(
    protocol: GroupProtocol,
    session_timeout_ms: Option<u64>,
) -> Option<String> {
    let ms = session_timeout_ms?;
    (protocol == GroupProtocol::Consumer && ms != CONSUMER_SESSION_TIMEOUT_MS).then(|| {
        format!(
            "session_timeout_ms = {ms} cannot hold under group_protocol = \"consumer\": the session \
             timeout of a KIP-848 group is the broker's `group.consumer.session.timeout.ms`, which \
             faultline sets to {CONSUMER_SESSION_TIMEOUT_MS} for every group; set the knob to \
             {CONSUMER_SESSION_TIMEOUT_MS}, remove it, or run with group_protocol = \"classic\""
        )
    })
}

/// A `--group-protocol` value that names no protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid group protocol `{0}`: expected one of {all}", all = GroupProtocol::ALL.join(", "))]
pub struct UnknownGroupProtocol(pub String);

#[cfg(test)]
mod tests {
    use super::GroupProtocol;

    #[test]
    fn protocols_parse_as_written_and_refuse_anything_else() {
        for text in GroupProtocol::ALL {
            assert_eq!(text.parse::<GroupProtocol>().unwrap().as_str(), text);
        }
        assert_eq!(
            "Consumer".parse::<GroupProtocol>().unwrap_err().to_string(),
            "invalid group protocol `Consumer`: expected one of classic, consumer"
        );
        assert_eq!(GroupProtocol::default(), GroupProtocol::Classic);
    }

    #[test]
    fn a_session_knob_other_than_the_brokers_is_refused_under_consumer_only() {
        use super::{session_knob_conflict, CONSUMER_SESSION_TIMEOUT_MS};
        assert_eq!(
            session_knob_conflict(GroupProtocol::Classic, Some(3000)),
            None
        );
        assert_eq!(session_knob_conflict(GroupProtocol::Consumer, None), None);
        assert_eq!(
            session_knob_conflict(GroupProtocol::Consumer, Some(CONSUMER_SESSION_TIMEOUT_MS)),
            None
        );
        let m = session_knob_conflict(GroupProtocol::Consumer, Some(3000)).unwrap();
        assert!(
            m.starts_with("session_timeout_ms = 3000 cannot hold"),
            "{m}"
        );
        assert!(m.contains("group.consumer.session.timeout.ms"), "{m}");
    }
}
