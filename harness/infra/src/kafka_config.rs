//! Broker settings shared by the self-hosted backends: listeners, KRaft voters and replication.
//!
//! Every broker has three listeners. `CLIENT` is what clients use and may be advertised as a fault
//! proxy's address; `INTERNAL` carries replication, so a proxy in front of clients never slows the
//! brokers down among themselves; `CONTROLLER` carries KRaft.

use std::collections::BTreeMap;

/// Where one broker's listeners bind and what it advertises.
#[derive(Debug, Clone)]
pub struct BrokerAddrs {
    pub id: u32,
    /// `host:port` the CLIENT listener binds to.
    pub client_bind: String,
    /// `host:port` clients are told to use.
    pub client_advertised: String,
    /// `host:port` the INTERNAL listener binds to, and how other brokers reach it.
    pub internal_bind: String,
    pub internal_advertised: String,
    /// `host:port` the CONTROLLER listener binds to, and how other voters reach it.
    pub controller_bind: String,
    pub controller_advertised: String,
}

/// How long the controller keeps a silent broker's registration (Kafka's default is 9 s).
pub const BROKER_SESSION_TIMEOUT_MS: u64 = 3000;

/// The `server.properties` entries for broker `me` of the cluster `all`.
pub fn broker_properties(me: &BrokerAddrs, all: &[BrokerAddrs]) -> BTreeMap<String, String> {
    let rf = all.len().min(3);
    let min_isr = if rf >= 3 { 2 } else { 1 };
    let voters = all
        .iter()
        .map(|b| format!("{}@{}", b.id, b.controller_advertised))
        .collect::<Vec<_>>()
        .join(",");
    let mut p = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        p.insert(k.to_string(), v);
    };
    set("process.roles", "broker,controller".into());
    set("node.id", me.id.to_string());
    set("controller.quorum.voters", voters);
    set(
        "listeners",
        format!(
            "CLIENT://{},INTERNAL://{},CONTROLLER://{}",
            me.client_bind, me.internal_bind, me.controller_bind
        ),
    );
    set(
        "advertised.listeners",
        format!(
            "CLIENT://{},INTERNAL://{}",
            me.client_advertised, me.internal_advertised
        ),
    );
    set("controller.listener.names", "CONTROLLER".into());
    set("inter.broker.listener.name", "INTERNAL".into());
    set(
        "listener.security.protocol.map",
        "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT".into(),
    );
    // Internal topics must not ask for more replicas than exist, or groups and transactions never start.
    set("offsets.topic.replication.factor", rf.to_string());
    set("transaction.state.log.replication.factor", rf.to_string());
    set("transaction.state.log.min.isr", min_isr.to_string());
    set("default.replication.factor", rf.to_string());
    set("min.insync.replicas", min_isr.to_string());
    set("offsets.topic.num.partitions", "10".into());
    set("transaction.state.log.num.partitions", "10".into());
    set("group.initial.rebalance.delay.ms", "0".into());
    // A transaction whose producer was killed holds back read_committed readers (and the stable
    // offsets the next owner reads) until the broker aborts it: look for timed-out ones every second.
    set(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "1000".into(),
    );
    set("num.partitions", "1".into());
    // Tests shut brokers down and up often; a shorter grace keeps restarts quick.
    set("controlled.shutdown.max.retries", "1".into());
    // A broker SIGKILLed and started again cannot register until the controller lets its previous
    // session expire (KAFKA-19130): 9 s by default, most of a killed broker's 14-15 s restart. The
    // heartbeat interval must stay below the session timeout.
    set(
        "broker.session.timeout.ms",
        BROKER_SESSION_TIMEOUT_MS.to_string(),
    );
    set("broker.heartbeat.interval.ms", "500".into());
    // KIP-848 (`group.protocol=consumer`) groups take their session timeout and heartbeat
    // interval from the broker, not the client: the same values as the ledger's classic client
    // settings, so a paused worker becomes a zombie after the same time under either protocol.
    // Kafka's minimums (45 s and 5 s) are lowered to allow them.
    for (key, value) in consumer_group_properties() {
        set(key, value);
    }
    set(
        "share.coordinator.state.topic.replication.factor",
        rf.to_string(),
    );
    set("share.coordinator.state.topic.min.isr", min_isr.to_string());
    p
}

/// The broker settings a KIP-848 (`group.protocol=consumer`) group's timing comes from. The
/// `external` backend cannot set them; `faultline check` and a run there name them.
pub fn consumer_group_properties() -> [(&'static str, String); 4] {
    use faultline_scenario::group_protocol::{
        CONSUMER_HEARTBEAT_INTERVAL_MS, CONSUMER_SESSION_TIMEOUT_MS,
    };
    [
        (
            "group.consumer.session.timeout.ms",
            CONSUMER_SESSION_TIMEOUT_MS.to_string(),
        ),
        ("group.consumer.min.session.timeout.ms", "3000".into()),
        (
            "group.consumer.heartbeat.interval.ms",
            CONSUMER_HEARTBEAT_INTERVAL_MS.to_string(),
        ),
        ("group.consumer.min.heartbeat.interval.ms", "500".into()),
    ]
}

/// What brokers someone else runs (the `external` backend) must be set to for a `consumer`
/// group to time out as faultline's own brokers do: one line naming each setting.
pub fn external_consumer_group_note() -> String {
    use faultline_scenario::group_protocol::{
        CONSUMER_HEARTBEAT_INTERVAL_MS, CONSUMER_SESSION_TIMEOUT_MS,
    };
    format!(
        "group protocol consumer on the external backend: faultline cannot set broker configs \
         there, and a KIP-848 group's session timeout and heartbeat interval are the broker's; \
         zombie scenarios behave as on faultline's own brokers only with \
         group.consumer.session.timeout.ms={CONSUMER_SESSION_TIMEOUT_MS} and \
         group.consumer.heartbeat.interval.ms={CONSUMER_HEARTBEAT_INTERVAL_MS}, which need \
         group.consumer.min.session.timeout.ms and group.consumer.min.heartbeat.interval.ms at \
         or below them (Kafka's defaults: 45000 and 5000)"
    )
}

/// Renders properties as a `server.properties` file.
pub fn render_properties(props: &BTreeMap<String, String>) -> String {
    props.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// The environment variable the `apache/kafka` image (and faultline's local image) maps to `key`:
/// `KAFKA_` + upper case, `.` → `_`, `_` → `__`, `-` → `___`.
pub fn env_var_for(key: &str) -> String {
    let mut out = String::from("KAFKA_");
    for c in key.chars() {
        match c {
            '.' => out.push('_'),
            '_' => out.push_str("__"),
            '-' => out.push_str("___"),
            c => out.push(c.to_ascii_uppercase()),
        }
    }
    out
}

/// A random KRaft cluster id: 16 bytes, URL-safe base64 without padding (22 characters), never
/// starting with `-` (as Kafka's own ids): `kafka-storage format -t -xyz…` would read it as an option.
pub fn new_cluster_id() -> String {
    loop {
        let id = encode_cluster_id(rand::random());
        if !id.starts_with('-') {
            return id;
        }
    }
}

fn encode_cluster_id(bytes: [u8; 16]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = String::with_capacity(22);
    for b in bytes {
        bits = (bits << 8) | u32::from(b);
        nbits += 8;
        while nbits >= 6 {
            nbits -= 6;
            out.push(ALPHABET[((bits >> nbits) & 63) as usize] as char);
        }
    }
    if nbits > 0 {
        out.push(ALPHABET[((bits << (6 - nbits)) & 63) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ids_never_start_with_a_dash() {
        // 0xF8 encodes to `-` (62) in the first six bits.
        assert!(encode_cluster_id([0xF8; 16]).starts_with('-'));
        for _ in 0..2000 {
            let id = new_cluster_id();
            assert_eq!(id.len(), 22);
            assert!(!id.starts_with('-'), "{id}");
        }
    }

    fn addrs(id: u32) -> BrokerAddrs {
        BrokerAddrs {
            id,
            client_bind: format!("127.0.0.1:{}", 9000 + id),
            client_advertised: format!("127.0.0.1:{}", 7000 + id),
            internal_bind: format!("127.0.0.1:{}", 9100 + id),
            internal_advertised: format!("127.0.0.1:{}", 9100 + id),
            controller_bind: format!("127.0.0.1:{}", 9200 + id),
            controller_advertised: format!("127.0.0.1:{}", 9200 + id),
        }
    }

    #[test]
    fn three_brokers_replicate_three_ways_and_need_two_in_sync() {
        let all: Vec<_> = (1..=3).map(addrs).collect();
        let p = broker_properties(&all[1], &all);
        assert_eq!(p["node.id"], "2");
        assert_eq!(
            p["controller.quorum.voters"],
            "1@127.0.0.1:9201,2@127.0.0.1:9202,3@127.0.0.1:9203"
        );
        assert_eq!(p["transaction.state.log.replication.factor"], "3");
        assert_eq!(p["min.insync.replicas"], "2");
        assert_eq!(
            p["advertised.listeners"],
            "CLIENT://127.0.0.1:7002,INTERNAL://127.0.0.1:9102"
        );
    }

    #[test]
    fn consumer_groups_time_out_as_the_ledgers_classic_client_does() {
        let p = broker_properties(&addrs(1), &[addrs(1)]);
        assert_eq!(p["group.consumer.session.timeout.ms"], "6000");
        assert_eq!(p["group.consumer.heartbeat.interval.ms"], "1000");
        // Kafka refuses a session timeout or heartbeat interval below its minimum.
        let n = |k: &str| p[k].parse::<u64>().unwrap();
        assert!(
            n("group.consumer.min.session.timeout.ms") <= n("group.consumer.session.timeout.ms")
        );
        assert!(
            n("group.consumer.min.heartbeat.interval.ms")
                <= n("group.consumer.heartbeat.interval.ms")
        );
        // ci/kafka/server.properties documents the same settings.
        let reference = include_str!("../../../ci/kafka/server.properties");
        for (k, v) in consumer_group_properties() {
            assert!(reference.contains(&format!("\n{k}={v}\n")), "{k}={v}");
        }
    }

    #[test]
    fn one_broker_can_run_transactions() {
        let all = vec![addrs(1)];
        let p = broker_properties(&all[0], &all);
        assert_eq!(p["transaction.state.log.replication.factor"], "1");
        assert_eq!(p["transaction.state.log.min.isr"], "1");
        assert_eq!(p["offsets.topic.replication.factor"], "1");
    }

    #[test]
    fn env_var_names_follow_the_official_image() {
        assert_eq!(env_var_for("node.id"), "KAFKA_NODE_ID");
        assert_eq!(
            env_var_for("controller.quorum.voters"),
            "KAFKA_CONTROLLER_QUORUM_VOTERS"
        );
        assert_eq!(env_var_for("a_b-c.d"), "KAFKA_A__B___C_D");
    }

    #[test]
    fn cluster_ids_are_22_url_safe_characters() {
        let id = new_cluster_id();
        assert_eq!(id.len(), 22);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(id, new_cluster_id());
    }
}
