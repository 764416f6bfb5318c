use std::path::Path;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn err(text: &str) -> ManifestError {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "faultline.toml", text);
    load(&p).unwrap_err()
}

#[test]
fn a_full_manifest_is_read_with_paths_resolved() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "schema.sql",
        "CREATE TABLE {schema}.t (id int);",
    );
    write(dir.path(), "events.jsonl", "{\"key\":\"a\",\"value\":{}}\n");
    let p = write(
        dir.path(),
        "faultline.toml",
        r#"
name = "orders"
command = ["python3", "p.py", "--id={worker_id}"]
guarantee = "effectively_once"

[env]
DATABASE_URL = "{postgres_url}"

[setup]
sql = ["schema.sql"]

[ready]
http = "http://127.0.0.1:{metrics_port}/ready"
timeout_s = 30

[progress]
source = "sql"
query = "SELECT partition, next_offset FROM {schema}.offsets"

[[output]]
table = "orders"
key = ["order_id"]
ignore = ["updated_at"]

[knobs]
batch_max_records = "BATCH"

[input]
records = "events.jsonl"

[defects]
variable = "BUG"
names = ["commit-before-db"]
"#,
    );
    let m = load(&p).unwrap();
    assert_eq!(m.golden_dir, None);
    assert_eq!(m.name, "orders");
    assert_eq!(m.guarantee, Guarantee::EffectivelyOnce);
    assert_eq!(m.setup.sql[0].0, dir.path().join("schema.sql"));
    assert!(
        matches!(&m.input, Some(Input::Records(p)) if *p == dir.path().join("events.jsonl")),
        "{:?}",
        m.input
    );
    assert!(matches!(m.ready.probe, Probe::Http(_)));
    assert_eq!(m.ready.timeout, Duration::from_secs(30));
    assert!(matches!(&m.progress, Progress::Sql(q) if q.to_string().contains("{schema}.offsets")));
    assert_eq!(m.knobs[&Knob::BatchMaxRecords], "BATCH");
    assert_eq!(m.outputs[0].ignore, vec!["updated_at"]);
    assert_eq!(m.defects.unwrap().variable, "BUG");
    assert_eq!(m.digest.len(), 64);
}

#[test]
fn replay_sql_rewinds_offsets_kept_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "faultline.toml",
        "command = [\"x\"]\n[replay]\nsql = \"UPDATE {schema}.offsets SET next_offset = 0\"\n",
    );
    let m = load(&p).unwrap();
    assert!(
        matches!(&m.replay, Replay::Sql(t) if t.to_string() == "UPDATE {schema}.offsets SET next_offset = 0")
    );
}

#[test]
fn defaults_for_a_minimal_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "faultline.toml", "command = [\"./run.sh\"]\n");
    let m = load(&p).unwrap();
    assert_eq!(m.guarantee, Guarantee::ExactlyOnce);
    assert!(matches!(m.progress, Progress::KafkaGroup));
    assert!(matches!(m.ready.probe, Probe::None));
    assert_eq!(
        m.ready.timeout,
        Duration::from_secs(DEFAULT_READY_TIMEOUT_S)
    );
    assert!(matches!(m.replay, Replay::Earliest));
    // The name defaults to the directory's.
    let dir_name = std::fs::canonicalize(dir.path()).unwrap();
    let dir_name = dir_name.file_name().unwrap().to_string_lossy();
    assert_eq!(m.name, dir_name.trim_start_matches('.'));
}

#[test]
fn a_missing_command_names_the_field_and_the_fix() {
    let e = err("name = \"x\"\n");
    assert_eq!(e.field, "command");
    assert!(e.message.contains("command = ["), "{e}");
}

#[test]
fn an_unknown_placeholder_names_its_line_and_the_known_ones() {
    let e = err("command = [\"x\"]\n\n[env]\nKAFKA = \"{kafka_brokers}\"\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert_eq!(e.field, "env.KAFKA");
    assert!(
        e.message.contains("unknown placeholder `{kafka_brokers}`"),
        "{e}"
    );
    assert!(e.message.contains("{kafka_bootstrap}"), "{e}");
    assert!(e.to_string().starts_with("manifest "), "{e}");
}

#[test]
fn placeholders_are_refused_where_they_have_no_value() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.sql", "-- {worker_id}\n");
    let p = write(
        dir.path(),
        "faultline.toml",
        "command = [\"x\"]\n[setup]\nsql = [\"s.sql\"]\n",
    );
    let e = load(&p).unwrap_err();
    assert_eq!(e.field, "setup.sql[0]");
    assert!(e.message.contains("{worker_id} has no value here"), "{e}");
    let e =
        err("command = [\"x\"]\n[progress]\nsource = \"sql\"\nquery = \"SELECT {enrich_url}\"\n");
    assert!(e.message.contains("{enrich_url} has no value here"), "{e}");
}

#[test]
fn a_setup_file_that_is_missing_is_named() {
    let e = err("command = [\"x\"]\n[setup]\nsql = [\"nope.sql\"]\n");
    assert_eq!(e.field, "setup.sql[0]");
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("nope.sql"), "{e}");
}

#[test]
fn choices_and_ranges_are_checked() {
    for (text, field, words) in [
        (
            "command = [\"x\"]\n[progress]\nsource = \"offsets\"\n",
            "progress.source",
            "kafka_group, sql, quiet",
        ),
        (
            "command = [\"x\"]\n[progress]\nsource = \"sql\"\n",
            "progress.query",
            "is missing",
        ),
        (
            "command = [\"x\"]\n[progress]\nsource = \"quiet\"\n",
            "progress.source",
            "no [[output]]",
        ),
        (
            "command = [\"x\"]\n[ready]\nlog = \"a\"\ntcp = \"b\"\n",
            "ready",
            "more than one",
        ),
        (
            "command = [\"x\"]\n[ready]\nlog = \"(\"\n",
            "ready.log",
            "regular expression",
        ),
        ("command = []\n", "command", "is empty"),
        (
            "command = [\"{schema}\"]\n",
            "command",
            "cannot use placeholders",
        ),
        (
            "command = [\"x\"]\n[[output]]\ntable = \"a.b\"\nkey = [\"id\"]\n",
            "output[0].table",
            "without its schema",
        ),
        (
            "command = [\"x\"]\n[[output]]\ntable = \"a\"\nkey = []\n",
            "output[0].key",
            "is empty",
        ),
        (
            "command = [\"x\"]\n[[output]]\ntable = \"a\"\nkey = [\"id\"]\nignore = [\"id\"]\n",
            "output[0].ignore",
            "part of the key",
        ),
        (
            "command = [\"x\"]\n[env]\n\"1X\" = \"a\"\n",
            "env.1X",
            "not an environment variable",
        ),
        (
            "command = [\"x\"]\n[replay]\nreset = \"latest\"\n",
            "replay.reset",
            "earliest",
        ),
        (
            "command = [\"x\"]\n[replay]\nsql = \"UPDATE {schema}.o SET n = 0\"\ncommand = [\"y\"]\n",
            "replay",
            "sets `command` and `sql`; keep one",
        ),
        (
            "command = [\"x\"]\n[replay]\nsql = \"UPDATE {worker_id}.o SET n = 0\"\n",
            "replay.sql",
            "worker_id",
        ),
        (
            "command = [\"x\"]\n[expect]\n[[expect.table]]\ntable = \"t\"\nmode = \"insert\"\nkey = [\"id\"]\ncolumns = { n = \"n\" }\n",
            "expect.table[0].key",
            "not among its columns",
        ),
        (
            "command = [\"x\"]\n[expect]\n[expect.dead_letter]\ntopic = \"dlq\"\npartition = \"p\"\noffset = \"o\"\n",
            "expect.dead_letter.topic",
            "{dlq_topic}",
        ),
        (
            "command = [\"x\"]\n[expect]\n[expect.dead_letter]\ntable = \"t\"\npartition = \"p\"\noffset = \"o\"\nreason = \"r\"\n[expect.dead_letter.reasons]\nbad_vibes = \"x\"\n",
            "expect.dead_letter.reasons.bad_vibes",
            "missing_field",
        ),
        ("command = [\"x\"]\nname = \"../up\"\n", "name", "contains"),
    ] {
        let e = err(text);
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.message.contains(words), "{text}: {e}");
        assert!(e.line.is_some(), "{text}: {e}");
    }
}

#[test]
fn unknown_fields_and_knobs_are_refused_by_the_schema() {
    let e = err("command = [\"x\"]\ncomand = 1\n");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("comand"), "{e}");
    let e = err("command = [\"x\"]\n[knobs]\nbatch_size = \"B\"\n");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("batch_max_records"), "{e}");
    let e = err("command = [\"x\"]\nguarantee = \"once\"\n");
    assert_eq!(e.line, Some(2), "{e}");
    for g in faultline_scenario::Guarantee::ALL {
        assert!(e.message.contains(g), "{e}");
    }
}

#[test]
fn the_program_is_found_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "faultline.toml",
        "command = [\"no-such-program-xyz\"]\n",
    );
    let m = load(&p).unwrap();
    let e = find_program(&m, &[]).unwrap_err();
    assert_eq!(e.field, "command");
    assert_eq!(e.line, Some(1));
    assert!(
        e.message.contains("`no-such-program-xyz` is not found"),
        "{e}"
    );
    let p = write(dir.path(), "faultline.toml", "command = [\"sh\"]\n");
    assert!(find_program(&load(&p).unwrap(), &[])
        .unwrap()
        .ends_with("sh"));
    let p = write(dir.path(), "faultline.toml", "command = [\"./run.sh\"]\n");
    let e = find_program(&load(&p).unwrap(), &[]).unwrap_err();
    assert!(e.message.contains("relative to `cwd`"), "{e}");
}

#[test]
fn golden_dir_is_taken_from_the_manifest_directory_and_needs_output_tables() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "faultline.toml",
        "command = [\"python3\"]\ngolden_dir = \"snapshots\"\n[[output]]\ntable = \"t\"\nkey = [\"id\"]\n",
    );
    let m = load(&p).unwrap();
    assert_eq!(m.golden_dir, Some(dir.path().join("snapshots")));

    let e = err("command = [\"python3\"]\ngolden_dir = \"snapshots\"\n");
    assert_eq!((e.field.as_str(), e.line), ("golden_dir", Some(2)));
    assert!(
        e.message.contains("needs [[output]] tables"),
        "{}",
        e.message
    );
    let e = err(
        "command = [\"python3\"]\ngolden_dir = \"\"\n[[output]]\ntable = \"t\"\nkey = [\"id\"]\n",
    );
    assert!(e.message.contains("is empty"), "{}", e.message);
}

const SPEND_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["event_id", "account", "amount_cents"],
  "additionalProperties": false,
  "properties": {
    "event_id": {"type": "string"},
    "account": {"type": "string", "pattern": "^acct-[0-9]{4}$"},
    "amount_cents": {"type": "integer", "minimum": 1, "maximum": 500000}PAYMENT
  }
}"#;

/// The schema with a property faultline cannot generate (`oneOf`), or without it.
fn spend_schema(unsupported: bool) -> String {
    let payment = r#",
    "payment": {"oneOf": [{"type": "string"}, {"type": "integer"}]}"#;
    SPEND_SCHEMA.replace("PAYMENT", if unsupported { payment } else { "" })
}

/// A manifest with `[input]` as given, beside `spend.schema.json` holding `schema`.
fn with_input(schema: &str, input: &str) -> Result<Manifest, ManifestError> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "spend.schema.json", schema);
    let p = write(
        dir.path(),
        "faultline.toml",
        &format!("command = [\"sh\", \"-c\", \"true\"]\n\n[input]\n{input}"),
    );
    load(&p)
}

#[test]
fn a_schema_input_is_loaded_with_its_key_identity_and_rules() {
    let supported = spend_schema(false);
    let m = with_input(
        &supported,
        "schema = \"spend.schema.json\"\nkey = \"account\"\nidentity = \"event_id\"\n\
         [input.fields.account]\ncardinality = 10\n",
    )
    .unwrap();
    let Some(Input::Schema(input)) = &m.input else {
        panic!("{:?}", m.input)
    };
    assert_eq!(
        (input.key.as_str(), input.identity.as_str()),
        ("account", "event_id")
    );
    assert_eq!(input.fields["account"].cardinality, Some(10));
    let made = faultline_schemagen::generate(&input.schema, &input.gen_spec(3, 200)).unwrap();
    let keys: std::collections::BTreeSet<&Option<Vec<u8>>> = made.iter().map(|g| &g.key).collect();
    assert_eq!(keys.len(), 10);
}

#[test]
fn a_schema_faultline_cannot_generate_from_names_the_keyword_and_its_path() {
    let e = with_input(
        &spend_schema(true),
        "schema = \"spend.schema.json\"\nkey = \"account\"\nidentity = \"event_id\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input.schema"), "{e}");
    assert!(e.contains("\"oneOf\" at /properties/payment"), "{e}");
    let recursive = r##"{"$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object", "required": ["id"],
        "properties": {"id": {"type": "string"}, "child": {"$ref": "#"}}}"##;
    let e = with_input(
        recursive,
        "schema = \"spend.schema.json\"\nkey = \"id\"\nidentity = \"id\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("recursive"), "{e}");
}

#[test]
fn a_schema_input_with_an_unknown_key_or_rule_field_is_refused() {
    let ok = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object", "required": ["id", "account"],
        "properties": {"id": {"type": "string"}, "account": {"type": "string"}}}"#;
    let e = with_input(
        ok,
        "schema = \"spend.schema.json\"\nkey = \"acount\"\nidentity = \"id\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input.key") && e.contains("acount"), "{e}");
    let e = with_input(
        ok,
        "schema = \"spend.schema.json\"\nkey = \"account\"\nidentity = \"id\"\n\
         [input.fields.amount]\nmin = 1\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input.fields.amount"), "{e}");
    let e = with_input(ok, "schema = \"spend.schema.json\"\nidentity = \"id\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("input.key") && e.contains("id, account"), "{e}");
    let e = with_input(
        ok,
        "records = \"x.jsonl\"\nschema = \"spend.schema.json\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not both"), "{e}");
}
