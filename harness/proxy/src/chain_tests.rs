use super::*;

const DOWN: Scope = Scope {
    seed: 11,
    conn: 0,
    stream: Direction::Downstream,
};

fn chain_of(kinds: &[ToxicKind], now: Instant) -> Chain {
    let toxics: Vec<_> = kinds
        .iter()
        .enumerate()
        .map(|(i, k)| (ToxicId(i as u64 + 1), Toxic::new(k.clone())))
        .collect();
    let mut chain = Chain::default();
    chain.sync(&toxics, DOWN, now);
    chain
}

fn data(at: Instant, bytes: &[u8]) -> Timed {
    Timed {
        at,
        out: Out::Data(bytes.to_vec()),
    }
}

fn bytes_of(pieces: &[Timed]) -> Vec<u8> {
    pieces
        .iter()
        .flat_map(|p| {
            if let Out::Data(d) = &p.out {
                d.clone()
            } else {
                vec![]
            }
        })
        .collect()
}

fn assert_in_order(pieces: &[Timed]) {
    assert!(
        pieces.windows(2).all(|w| w[0].at <= w[1].at),
        "pieces leave in arrival order"
    );
}

#[test]
fn latency_delays_every_chunk_and_keeps_order_under_jitter() {
    let t0 = Instant::now();
    let mut chain = chain_of(
        &[ToxicKind::Latency {
            latency_ms: 100,
            jitter_ms: 80,
        }],
        t0,
    );
    let input: Vec<_> = (0..50)
        .map(|i| data(t0 + Duration::from_millis(i), &[i as u8]))
        .collect();
    let out = chain.apply(input);
    assert_in_order(&out);
    assert_eq!(bytes_of(&out), (0..50).collect::<Vec<u8>>());
    for (i, piece) in out.iter().enumerate() {
        assert!(
            piece.at >= t0 + Duration::from_millis(i as u64 + 20),
            "chunk {i} delayed by at least latency - jitter"
        );
    }
    let eof = chain.apply(vec![Timed {
        at: t0,
        out: Out::Eof,
    }]);
    assert!(
        eof[0].at >= out.last().unwrap().at,
        "end of stream comes after the data"
    );
}

#[test]
fn bandwidth_spreads_data_at_the_rate() {
    let t0 = Instant::now();
    let mut chain = chain_of(&[ToxicKind::Bandwidth { rate_kbps: 1 }], t0);
    let payload: Vec<u8> = (0..10_240u32).map(|i| i as u8).collect();
    let out = chain.apply(vec![data(t0, &payload)]);
    assert_eq!(bytes_of(&out), payload);
    assert_in_order(&out);
    assert_eq!(
        out.last().unwrap().at - t0,
        Duration::from_secs(10),
        "10 KiB at 1 KiB/s"
    );
    assert!(
        out.iter()
            .all(|p| matches!(&p.out, Out::Data(d) if d.len() <= 102)),
        "100 ms pieces"
    );
    let later = chain.apply(vec![data(t0, &[0; 1024])]);
    assert_eq!(
        later.last().unwrap().at - t0,
        Duration::from_secs(11),
        "the link stays busy"
    );
}

#[test]
fn slicer_cuts_within_bounds_spaced_by_delay() {
    let t0 = Instant::now();
    let kind = ToxicKind::Slicer {
        average_size: 10,
        size_variation: 5,
        delay_us: 100,
    };
    let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let out = chain_of(std::slice::from_ref(&kind), t0).apply(vec![data(t0, &payload)]);
    assert_eq!(bytes_of(&out), payload);
    let sizes: Vec<usize> = out
        .iter()
        .map(|p| {
            if let Out::Data(d) = &p.out {
                d.len()
            } else {
                0
            }
        })
        .collect();
    assert!(
        sizes[..sizes.len() - 1]
            .iter()
            .all(|n| (5..=15).contains(n)),
        "{sizes:?}"
    );
    for (i, piece) in out.iter().enumerate() {
        assert_eq!(piece.at, t0 + Duration::from_micros(100 * i as u64));
    }
    let again = chain_of(&[kind], t0).apply(vec![data(t0, &payload)]);
    assert_eq!(again, out, "the same seed cuts the same slices");
}

#[test]
fn limit_data_passes_exactly_n_bytes_across_chunks_then_closes() {
    let t0 = Instant::now();
    let mut chain = chain_of(&[ToxicKind::LimitData { bytes: 25 }], t0);
    let first = chain.apply(vec![data(t0, &[1; 10]), data(t0, &[2; 10])]);
    assert_eq!(bytes_of(&first).len(), 20);
    assert!(!first.iter().any(|p| p.out == Out::Close));
    let second = chain.apply(vec![
        data(t0, &[3; 10]),
        Timed {
            at: t0,
            out: Out::Eof,
        },
    ]);
    assert_eq!(
        second,
        vec![
            data(t0, &[3; 5]),
            Timed {
                at: t0,
                out: Out::Close
            }
        ]
    );
    assert!(
        chain.apply(vec![data(t0, &[4; 10])]).is_empty(),
        "nothing passes after the limit"
    );
}

#[test]
fn slow_close_delays_only_the_end_of_stream() {
    let t0 = Instant::now();
    let mut chain = chain_of(&[ToxicKind::SlowClose { delay_ms: 300 }], t0);
    let out = chain.apply(vec![
        data(t0, b"x"),
        Timed {
            at: t0,
            out: Out::Eof,
        },
    ]);
    assert_eq!(
        out,
        vec![
            data(t0, b"x"),
            Timed {
                at: t0 + Duration::from_millis(300),
                out: Out::Eof
            }
        ]
    );
}

#[test]
fn toxics_apply_in_the_order_added() {
    let t0 = Instant::now();
    let slicer = ToxicKind::Slicer {
        average_size: 4,
        size_variation: 0,
        delay_us: 0,
    };
    let latency = ToxicKind::Latency {
        latency_ms: 100,
        jitter_ms: 50,
    };
    let times = |kinds: &[ToxicKind]| -> Vec<Instant> {
        chain_of(kinds, t0)
            .apply(vec![data(t0, &[9; 64])])
            .iter()
            .map(|p| p.at)
            .collect()
    };
    let delay_then_cut = times(&[latency.clone(), slicer.clone()]);
    assert_eq!(delay_then_cut.len(), 16);
    assert!(
        delay_then_cut.iter().all(|at| *at == delay_then_cut[0]),
        "one delay for the whole chunk"
    );
    let cut_then_delay = times(&[slicer, latency]);
    assert_eq!(cut_then_delay.len(), 16);
    assert!(
        cut_then_delay.iter().any(|at| *at != cut_then_delay[0]),
        "each slice draws its own delay"
    );
}

#[test]
fn sync_keeps_state_reports_removals_and_filters() {
    let t0 = Instant::now();
    let limit = (ToxicId(1), Toxic::new(ToxicKind::LimitData { bytes: 10 }));
    let latency = (
        ToxicId(2),
        Toxic::new(ToxicKind::Latency {
            latency_ms: 5,
            jitter_ms: 0,
        }),
    );
    let mut chain = Chain::default();
    assert!(!chain.sync(std::slice::from_ref(&limit), DOWN, t0));
    chain.apply(vec![data(t0, &[0; 8])]);
    assert!(
        !chain.sync(&[limit.clone(), latency.clone()], DOWN, t0),
        "adding removes nothing"
    );
    let out = chain.apply(vec![data(t0, &[0; 8])]);
    assert_eq!(
        bytes_of(&out).len(),
        2,
        "the limit kept its count across the change"
    );
    assert!(
        chain.sync(&[limit], DOWN, t0),
        "removing latency is reported"
    );

    let upstream_only = (
        ToxicId(3),
        Toxic::new(ToxicKind::Timeout { timeout_ms: 0 }).on(Direction::Upstream),
    );
    let never = (
        ToxicId(4),
        Toxic::new(ToxicKind::Timeout { timeout_ms: 0 }).with_probability(0.0),
    );
    assert!(chain.sync(&[upstream_only, never], DOWN, t0));
    assert!(
        chain.is_empty(),
        "other-direction and p=0 toxics do not apply"
    );
}

#[test]
fn timers_count_from_when_the_toxic_starts() {
    let t0 = Instant::now();
    let chain = chain_of(&[ToxicKind::Timeout { timeout_ms: 0 }], t0);
    assert!(chain.holds());
    assert_eq!(chain.deadline(), None, "a blackhole never closes");
    let chain = chain_of(
        &[
            ToxicKind::Timeout { timeout_ms: 500 },
            ToxicKind::ResetPeer { timeout_ms: 200 },
        ],
        t0,
    );
    assert_eq!(
        chain.deadline(),
        Some((t0 + Duration::from_millis(200), End::Reset))
    );
    let chain = chain_of(
        &[
            ToxicKind::ResetPeer { timeout_ms: 900 },
            ToxicKind::Timeout { timeout_ms: 500 },
        ],
        t0,
    );
    assert_eq!(
        chain.deadline(),
        Some((t0 + Duration::from_millis(500), End::Close))
    );
}

#[test]
fn commit_in_doubt_passes_up_to_a_commit_acknowledgement_then_closes_and_drops_the_rest() {
    let t0 = Instant::now();
    let msg = crate::pg_wire::msg;
    let toxics = [(
        ToxicId(1),
        Toxic::new(ToxicKind::CommitInDoubt).on(Direction::Downstream),
    )];
    let mut chain = Chain::default();
    chain.sync(&toxics, DOWN, t0);
    let before = [msg(b'C', b"INSERT 0 3\0"), msg(b'Z', b"T")].concat();
    let commit = [msg(b'C', b"COMMIT\0"), msg(b'Z', b"I")].concat();
    // The acknowledgement straddles two chunks: its start is held back until the tag is readable.
    let (a, b) = commit.split_at(8);
    let first = chain.apply(vec![data(t0, &[before.as_slice(), a].concat())]);
    assert_eq!(first, vec![data(t0, &before)]);
    let second = chain.apply(vec![data(t0, b)]);
    assert_eq!(
        second,
        vec![Timed {
            at: t0,
            out: Out::Close
        }]
    );
    let later = chain.apply(vec![data(t0, &msg(b'C', b"SELECT 1\0"))]);
    assert!(
        later.is_empty(),
        "bytes after the cut went through: {later:?}"
    );
}
