#!/usr/bin/env python3
"""Writes the payments sink's recorded events (faultline's [input] records JSONL), deterministically.

The same --seed and --payments give the same bytes. Every payment is a short sequence of events with
seq 1, 2, ... on one account and currency: initiated, then authorized or failed; an authorized
payment is captured or voided; some captured payments are later (partly) refunded; a few are still
in flight. Events of all payments are merged by the time they were emitted; some are emitted late
(after a newer event of the same payment), some twice, and a few extra records are invalid in one of
the ways README.md lists, so the sink must dead-letter them.

    python3 gen_events.py [SEED [PAYMENTS]] > events.jsonl      # defaults: 11 1500
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
from datetime import datetime, timedelta, timezone

EPOCH = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
ACCOUNTS = 240
CURRENCIES = ("EUR", "EUR", "EUR", "USD", "USD", "GBP")
P_LATE = 0.05
P_RESENT = 0.03
P_INVALID = 0.02


# The ways a payment goes, with their weights.
PATHS = (
    (8, ("initiated", "failed")),
    (10, ("initiated", "authorized", "voided")),
    (15, ("initiated", "authorized", "captured", "refunded")),
    (67, ("initiated", "authorized", "captured")),
)
P_IN_FLIGHT = 0.15  # only the first steps have happened yet


def steps(rng: random.Random) -> list[str]:
    """The statuses one payment goes through, in order."""
    (path,) = rng.choices([p for _, p in PATHS], weights=[w for w, _ in PATHS])
    cut = rng.randint(1, len(path)) if rng.random() < P_IN_FLIGHT else len(path)
    return list(path[:cut])


def payment(rng: random.Random, n: int) -> list[tuple[datetime, dict]]:
    """(emit time, JSONL line) for each step of payment n, its re-sent copies and invalid extras."""
    pid = f"pay-{n:06d}"
    account = f"acct-{rng.randint(1, ACCOUNTS):04d}"
    currency = rng.choice(CURRENCIES)
    amount = rng.randint(50, 250_000)
    at = EPOCH + timedelta(seconds=rng.randint(0, 3 * 24 * 3600))
    out = []
    for seq, status in enumerate(steps(rng), start=1):
        # A refund returns part of the captured amount, or all of it.
        value = amount if status != "refunded" else rng.choice([amount, max(1, amount // rng.randint(2, 5))])
        event = {
            "payment_id": pid,
            "account_id": account,
            "seq": seq,
            "status": status,
            "amount_minor": value,
            "currency": currency,
            "occurred_at": at.isoformat().replace("+00:00", "Z"),
        }
        emitted = at + (timedelta(minutes=rng.randint(30, 36 * 60)) if rng.random() < P_LATE else timedelta())
        out.append((emitted, {"key": pid, "value": event}))
        if rng.random() < P_RESENT:
            out.append((emitted + timedelta(seconds=rng.randint(5, 7200)), {"key": pid, "value": event}))
        if rng.random() < P_INVALID:
            out.append((emitted, broken(rng, event)))
        at += timedelta(seconds=rng.randint(2, 30 * 3600))
    return out


def broken(rng: random.Random, event: dict) -> dict:
    """A JSONL line with one invalid record derived from `event`, keyed by its payment."""
    key = event["payment_id"]
    bad = dict(event)
    kind = rng.choice(["truncated", "not-utf8", "missing", "type", "status", "currency", "negative", "key"])
    if kind == "truncated":
        raw = json.dumps(event, separators=(",", ":")).encode()
        return {"key": key, "value_b64": base64.b64encode(raw[: rng.randint(1, len(raw) - 2)]).decode()}
    if kind == "not-utf8":
        raw = json.dumps(event, separators=(",", ":")).encode().replace(b"pay-", b"pay\xc3\x28", 1)
        return {"key": key, "value_b64": base64.b64encode(raw).decode()}
    if kind == "missing":
        del bad[rng.choice(sorted(bad))]
    elif kind == "type":
        name = rng.choice(["seq", "amount_minor"])
        bad[name] = rng.choice([str(bad[name]), float(bad[name]) + 0.5, True])
    elif kind == "status":
        bad["status"] = rng.choice(["settled", "CAPTURED", ""])
    elif kind == "currency":
        bad["currency"] = rng.choice(["eur", "EURO", "€"])
    elif kind == "negative":
        bad["amount_minor"] = -bad["amount_minor"]
    else:
        return {"key": key + "-x", "value": bad}
    return {"key": key, "value": bad}


def generate(seed: int, payments: int) -> list[dict]:
    """Every line of the file, in arrival order (emit time; ties in the order they were made)."""
    rng = random.Random(seed)
    made = [line for n in range(1, payments + 1) for line in payment(rng, n)]
    arrival = sorted(range(len(made)), key=lambda i: (made[i][0], i))
    return [made[i][1] for i in arrival]


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("seed", nargs="?", type=int, default=11)
    cli.add_argument("payments", nargs="?", type=int, default=1500)
    opts = cli.parse_args()
    for record in generate(opts.seed, opts.payments):
        sys.stdout.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
