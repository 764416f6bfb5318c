#!/usr/bin/env python3
"""Writes a deterministic stream of order events as JSONL (the manifest's [input] records format).

Same --seed and --orders, same bytes. Each order walks a lifecycle (created -> paid -> shipped ->
delivered, or cancelled on the way; some are still in flight), one event per step with an increasing
version. The stream is what a real topic sees: events interleaved across orders by time, some arriving
late (after a newer version of the same order), some re-sent (exact duplicates), and some invalid
(not JSON, a missing field, a wrong type, an unknown status) that must go to the dead-letter topic.

    python3 gen_events.py [--seed 7] [--orders 2000] [--out events.jsonl]
"""

from __future__ import annotations

import argparse
import base64
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

START = datetime(2026, 12, 1, tzinfo=timezone.utc)
LATE_RATIO = 0.05  # an event delayed past a newer version of its order
DUPLICATE_RATIO = 0.03  # an event re-sent later, byte for byte
INVALID_RATIO = 0.02  # an extra record that is invalid in one way


def lifecycle(rng: random.Random) -> list[str]:
    r = rng.random()
    if r < 0.12:
        steps = ["created", "cancelled"]
    elif r < 0.22:
        steps = ["created", "paid", "cancelled"]
    else:
        steps = ["created", "paid", "shipped", "delivered"]
    if rng.random() < 0.2:  # still in flight: only the first steps have happened
        steps = steps[: rng.randint(1, len(steps))]
    return steps


def order_events(rng: random.Random, n: int) -> list[tuple[datetime, dict]]:
    """(emit time, event) for every step of order n."""
    order_id = f"o-{n:06d}"
    t = START + timedelta(seconds=rng.randint(0, 7 * 24 * 3600))
    amount = rng.randint(100, 50_000)
    out = []
    for version, status in enumerate(lifecycle(rng), start=1):
        if status == "paid" and rng.random() < 0.3:
            amount -= amount // 10  # a discount applied at payment
        event = {
            "order_id": order_id,
            "status": status,
            "version": version,
            "amount_cents": amount,
            "updated_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        emit = t
        if rng.random() < LATE_RATIO:
            emit += timedelta(hours=rng.randint(1, 48))
        out.append((emit, event))
        if rng.random() < DUPLICATE_RATIO:
            out.append((emit + timedelta(minutes=rng.randint(1, 600)), event))
        t += timedelta(minutes=rng.randint(5, 3 * 24 * 60))
    return out


def invalid(rng: random.Random, event: dict) -> dict:
    """A JSONL line for an invalid record derived from `event` (keyed by its order)."""
    key = event["order_id"]
    bad = dict(event)
    kind = rng.choice(["not-json", "missing-field", "wrong-type", "unknown-status"])
    if kind == "not-json":
        raw = json.dumps(event, separators=(",", ":")).encode()
        raw = raw[: rng.randint(1, len(raw) - 1)] if rng.random() < 0.7 else b"\xff\xfe\x00garbage"
        return {"key": key, "value_b64": base64.b64encode(raw).decode()}
    if kind == "missing-field":
        del bad[rng.choice(sorted(bad))]
    elif kind == "wrong-type":
        field = rng.choice(["version", "amount_cents", "status"])
        bad[field] = str(bad[field]) if field != "status" else 3
    else:
        bad["status"] = rng.choice(["refunded", "lost", "PAID", ""])
    return {"key": key, "value": bad}


def generate(seed: int, orders: int) -> list[dict]:
    rng = random.Random(seed)
    timed: list[tuple[datetime, int, dict]] = []
    for n in range(1, orders + 1):
        for emit, event in order_events(rng, n):
            line = {"key": event["order_id"], "value": event}
            timed.append((emit, len(timed), line))
            if rng.random() < INVALID_RATIO:
                timed.append((emit, len(timed), invalid(rng, event)))
    # Arrival order: by emit time, ties in generation order (so the sort is deterministic).
    timed.sort(key=lambda x: (x[0], x[1]))
    return [line for _, _, line in timed]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("events.jsonl"))
    args = ap.parse_args()
    lines = generate(args.seed, args.orders)
    with args.out.open("w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
    print(f"wrote {len(lines)} records for {args.orders} orders to {args.out}")


if __name__ == "__main__":
    main()
