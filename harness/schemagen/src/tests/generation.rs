use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{loose, orders, orders_avro};
use crate::{generate, FieldRule, GenSpec, Generated, InputSchema};

fn spec(seed: u64, events: u64) -> GenSpec {
    GenSpec {
        seed,
        events,
        key: "order_id".into(),
        identity: "event_id".into(),
        fields: BTreeMap::new(),
    }
}

fn rule(toml_text: &str) -> FieldRule {
    toml::from_str(toml_text).unwrap()
}

fn digest(records: &[Generated]) -> String {
    let mut h = Sha256::new();
    for r in records {
        h.update(r.key.as_deref().unwrap_or_default());
        h.update(&r.value);
    }
    hex::encode(h.finalize())
}

#[test]
fn same_seed_same_bytes_different_seeds_differ() {
    for schema in [orders(), orders_avro()] {
        let digests: Vec<String> = (0..6u64)
            .map(|s| digest(&generate(&schema, &spec(s, 50)).unwrap()))
            .collect();
        for (seed, d) in digests.iter().enumerate() {
            assert_eq!(
                *d,
                digest(&generate(&schema, &spec(seed as u64, 50)).unwrap())
            );
        }
        assert_eq!(
            digests.iter().collect::<HashSet<_>>().len(),
            digests.len(),
            "{digests:?}"
        );
    }
}

#[test]
fn every_record_passes_check_over_many_seeds() {
    for schema in [orders(), orders_avro(), loose()] {
        for seed in 0..40 {
            let mut s = spec(seed, 25);
            if schema.fields().len() == 2 {
                (s.key, s.identity) = ("a".into(), String::new());
            }
            for r in generate(&schema, &s).unwrap() {
                schema
                    .check(&r.json)
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}: {}", r.json));
                assert_eq!(serde_json::from_slice::<Value>(&r.value).unwrap(), r.json);
            }
        }
    }
}

#[test]
fn records_look_like_their_schema() {
    let records = generate(&orders(), &spec(3, 200)).unwrap();
    let identities: HashSet<&str> = records.iter().map(|r| r.identity.as_str()).collect();
    assert_eq!(identities.len(), 200, "identity is unique per event");
    let r = &records[0];
    assert_eq!(r.json["event_id"], Value::String(r.identity.clone()));
    assert_eq!(
        r.key.as_deref(),
        r.json["order_id"].as_str().map(str::as_bytes)
    );
    let with_note = records
        .iter()
        .filter(|r| r.json.get("note").is_some())
        .count();
    assert!(
        (100..=180).contains(&with_note),
        "optional present ~70%: {with_note}"
    );
    let skus = records
        .iter()
        .flat_map(|r| r.json["items"].as_array().unwrap())
        .map(|i| i["sku"].as_str().unwrap().to_owned());
    assert!(skus
        .into_iter()
        .all(|s| s.len() == 8 && s.starts_with("SKU-")));
    let discounts = records
        .iter()
        .filter_map(|r| r.json.get("discount")?.as_f64());
    assert!(discounts
        .into_iter()
        .all(|d| (0.0..1.0).contains(&d) && ((d * 1e6).round() - d * 1e6).abs() < 1e-6));
}

#[test]
fn cardinality_and_hot_keys_hold() {
    let mut s = spec(11, 4000);
    s.fields.insert(
        "order_id".into(),
        rule("cardinality = 200\nhot_keys = 0.1\nhot_share = 0.5"),
    );
    let records = generate(&orders(), &s).unwrap();
    let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
    for r in &records {
        *counts.entry(r.key.clone().unwrap()).or_default() += 1;
    }
    assert_eq!(counts.len(), 200);
    let hot: usize = (0..20)
        .map(|i| counts[format!("order_id-{i:06}").as_bytes()])
        .sum();
    let share = hot as f64 / records.len() as f64;
    assert!((share - 0.5).abs() <= 0.05, "hot share {share}");

    let mut plain = spec(12, 3000);
    plain
        .fields
        .insert("order_id".into(), rule("cardinality = 50"));
    let keys: HashSet<_> = generate(&orders(), &plain)
        .unwrap()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(keys.len(), 50);
}

#[test]
fn per_key_versions_count_without_gaps() {
    let mut s = spec(5, 1000);
    s.fields.insert("order_id".into(), rule("cardinality = 30"));
    s.fields
        .insert("version".into(), rule("version = \"per_key\""));
    let mut last: HashMap<Vec<u8>, u64> = HashMap::new();
    for r in generate(&orders(), &s).unwrap() {
        let v = r.json["version"].as_u64().unwrap();
        let prev = last.insert(r.key.unwrap(), v).unwrap_or(0);
        assert_eq!(v, prev + 1);
    }
}

#[test]
fn clocks_ranges_and_weights_hold() {
    let mut s = spec(9, 3000);
    s.fields.insert(
        "updated_at".into(),
        rule("time = \"monotonic\"\nstart = \"2026-01-01T00:00:00Z\"\nstep_ms = 250"),
    );
    s.fields
        .insert("amount_cents".into(), rule("min = 100\nmax = 200"));
    s.fields.insert(
        "status".into(),
        rule("weights = { created = 5, paid = 3, shipped = 1 }"),
    );
    let records = generate(&orders(), &s).unwrap();
    assert_eq!(records[1].json["updated_at"], "2026-01-01T00:00:00.250Z");
    let times: Vec<&str> = records
        .iter()
        .map(|r| r.json["updated_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    assert!(records
        .iter()
        .all(|r| (100..=200).contains(&r.json["amount_cents"].as_i64().unwrap())));
    let mut by_status: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        *by_status
            .entry(r.json["status"].as_str().unwrap())
            .or_default() += 1;
    }
    assert_eq!(by_status.get("cancelled"), None);
    let share = |k: &str| by_status[k] as f64 / records.len() as f64;
    assert!(
        (share("created") - 5.0 / 9.0).abs() < 0.04 && (share("shipped") - 1.0 / 9.0).abs() < 0.03,
        "{by_status:?}"
    );

    let mut skewed = spec(9, 500);
    skewed.fields.insert(
        "updated_at".into(),
        rule("time = \"skewed\"\nstep_ms = 1000\nskew_ms = 5000"),
    );
    let times: Vec<String> = generate(&orders(), &skewed)
        .unwrap()
        .into_iter()
        .map(|r| r.json["updated_at"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        times.windows(2).any(|w| w[0] > w[1]),
        "skew reorders some events"
    );
}

#[test]
fn avro_rules_use_epoch_millis_and_integer_identity() {
    let schema = orders_avro();
    let mut s = GenSpec {
        seed: 1,
        events: 100,
        key: "customer.id".into(),
        identity: "amount".into(),
        fields: BTreeMap::new(),
    };
    s.fields.insert(
        "updated_at".into(),
        rule("time = \"monotonic\"\nstep_ms = 10"),
    );
    s.fields
        .insert("customer.id".into(), rule("cardinality = 7"));
    s.fields
        .insert("version".into(), rule("version = \"per_key\""));
    let records = generate(&schema, &s).unwrap();
    assert_eq!(records[2].json["updated_at"], 1_767_225_600_020_i64);
    assert_eq!(records[99].identity, "100");
    assert_eq!(
        records
            .iter()
            .map(|r| r.key.clone())
            .collect::<HashSet<_>>()
            .len(),
        7
    );
}

#[test]
fn field_rules_deserialise_from_toml_and_refuse_unknown_keys() {
    let r = rule("cardinality = 200\nhot_keys = 0.1\nhot_share = 0.5");
    assert_eq!(r.cardinality, Some(200));
    assert!(toml::from_str::<FieldRule>("cardinalty = 2").is_err());
    assert!(toml::from_str::<FieldRule>("version = \"global\"").is_err());
}

#[test]
fn load_dispatches_on_extension() {
    let dir = tempfile::tempdir().unwrap();
    let (json, avsc) = (
        dir.path().join("orders.schema.json"),
        dir.path().join("orders.avsc"),
    );
    std::fs::write(&json, super::ORDERS).unwrap();
    std::fs::write(&avsc, super::ORDERS_AVRO).unwrap();
    assert_eq!(InputSchema::load(&json).unwrap().fields()[2], "status");
    let avro = InputSchema::load(&avsc).unwrap();
    assert!(avro.has_field("customer.code") && !avro.has_field("customer.nope"));
    assert_eq!(avro.fields().len(), 13);
    let err = InputSchema::load(&dir.path().join("missing.json")).unwrap_err();
    assert!(
        matches!(err, crate::SchemaError::Io { .. })
            && err.to_string().starts_with("missing.json: "),
        "{err}"
    );
}
