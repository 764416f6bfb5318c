use super::*;

#[test]
fn scenario_toml_parses_with_defaults() {
    let toxic: Toxic = toml::from_str("kind = { type = \"latency\", latency_ms = 200 }").unwrap();
    assert_eq!(
        toxic,
        Toxic::new(ToxicKind::Latency {
            latency_ms: 200,
            jitter_ms: 0
        })
    );
    let toxic: Toxic = toml::from_str(
        "direction = \"downstream\"\nprobability = 0.25\n[kind]\ntype = \"slicer\"\naverage_size = 64",
    )
    .unwrap();
    assert_eq!(toxic.direction, Direction::Downstream);
    assert_eq!(toxic.probability, 0.25);
    assert_eq!(
        toxic.kind,
        ToxicKind::Slicer {
            average_size: 64,
            size_variation: 0,
            delay_us: 0
        }
    );
}

#[test]
fn unknown_fields_and_types_are_named() {
    let err = toml::from_str::<Toxic>("kind = { type = \"latency\", latency = 5 }").unwrap_err();
    assert!(err.to_string().contains("latency"), "{err}");
    let err = toml::from_str::<Toxic>("kind = { type = \"lag\", latency_ms = 5 }").unwrap_err();
    assert!(err.to_string().contains("lag"), "{err}");
    let err = toml::from_str::<Toxic>(
        "kind = { type = \"timeout\", timeout_ms = 5 }\ndirectoin = \"both\"",
    )
    .unwrap_err();
    assert!(err.to_string().contains("directoin"), "{err}");
}

#[test]
fn json_round_trip_keeps_every_kind() {
    let kinds = [
        ToxicKind::Latency {
            latency_ms: 1,
            jitter_ms: 2,
        },
        ToxicKind::Bandwidth { rate_kbps: 3 },
        ToxicKind::SlowClose { delay_ms: 4 },
        ToxicKind::Timeout { timeout_ms: 5 },
        ToxicKind::ResetPeer { timeout_ms: 6 },
        ToxicKind::Slicer {
            average_size: 7,
            size_variation: 1,
            delay_us: 9,
        },
        ToxicKind::LimitData { bytes: 10 },
    ];
    for kind in kinds {
        let toxic = Toxic::new(kind)
            .on(Direction::Upstream)
            .with_probability(0.5);
        let json = serde_json::to_string(&toxic).unwrap();
        assert!(
            json.contains(&format!("\"type\":\"{}\"", toxic.kind.name())),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Toxic>(&json).unwrap(), toxic);
    }
}

#[test]
fn describe_gives_amount_direction_and_probability() {
    let toxic = Toxic::new(ToxicKind::Latency {
        latency_ms: 200,
        jitter_ms: 50,
    })
    .on(Direction::Downstream);
    assert_eq!(toxic.describe(), "latency 200 ms ± 50 ms, downstream, p=1");
    let toxic = Toxic::new(ToxicKind::Timeout { timeout_ms: 0 }).with_probability(0.5);
    assert_eq!(
        toxic.describe(),
        "timeout: blackhole, never closes, both, p=0.5"
    );
    assert_eq!(
        Toxic::new(ToxicKind::LimitData { bytes: 9 }).to_string(),
        "limit_data 9 B then close, both, p=1"
    );
}

#[test]
fn validate_names_the_offending_field() {
    let field_of = |toxic: Toxic| match toxic.validate() {
        Err(InvalidToxic { field, .. }) => field,
        other => panic!("expected an invalid toxic, got {other:?}"),
    };
    let latency = Toxic::new(ToxicKind::Latency {
        latency_ms: 1,
        jitter_ms: 0,
    });
    assert_eq!(
        field_of(latency.clone().with_probability(1.5)),
        "probability"
    );
    assert_eq!(
        field_of(latency.clone().with_probability(f64::NAN)),
        "probability"
    );
    assert_eq!(
        field_of(Toxic::new(ToxicKind::Bandwidth { rate_kbps: 0 })),
        "rate_kbps"
    );
    let slicer = |average_size, size_variation| ToxicKind::Slicer {
        average_size,
        size_variation,
        delay_us: 0,
    };
    assert_eq!(field_of(Toxic::new(slicer(0, 0))), "average_size");
    assert_eq!(field_of(Toxic::new(slicer(8, 8))), "size_variation");
    assert_eq!(
        field_of(Toxic::new(ToxicKind::LimitData { bytes: 0 })),
        "bytes"
    );
    let err = Toxic::new(slicer(8, 9)).validate().unwrap_err().to_string();
    assert_eq!(
        err,
        "toxic slicer: `size_variation` must be smaller than average_size (8), got 9"
    );
    assert!(latency.with_probability(0.0).validate().is_ok());
    assert!(Toxic::new(slicer(8, 7)).validate().is_ok());
    assert_eq!(field_of(Toxic::new(ToxicKind::CommitInDoubt)), "direction");
    assert!(Toxic::new(ToxicKind::CommitInDoubt)
        .on(Direction::Downstream)
        .validate()
        .is_ok());
}
