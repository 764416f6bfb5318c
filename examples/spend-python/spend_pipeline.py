#!/usr/bin/env python3
"""spend-pipeline: card spend events from Kafka -> totals per account per event-time window.

Exactly once without Kafka offsets: each batch's window totals, its rejected records and the next
offset of every partition it read are written in one Postgres transaction, and a worker that is
assigned a partition seeks to the offset stored there. The stored offset doubles as a fence: a batch
commits only if the offset it started from is still the stored one, so a worker that lost its
partitions while paused cannot add its batch a second time.
Configured by its own environment variables (see README.md); a bad one exits 2 naming it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from psycopg.conninfo import conninfo_to_dict

DEFECTS = ("window-off-by-one",)
CATEGORIES = frozenset({"grocery", "fuel", "travel", "dining", "other"})
# Field -> (type, minimum, maximum); checked in this order, the first problem is the reason.
FIELDS = {
    "event_id": (str, None, None),
    "account": (str, None, None),
    "amount_cents": (int, 1, 500_000),
    "event_ms": (int, 0, 2**63 - 1),
    "category": (str, None, None),
}
OPTIONAL = {"merchant": str}
ACCOUNT = re.compile(r"^acct-[0-9]{4}$")
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
SCHEMA_SQL = Path(__file__).resolve().with_name("schema.sql")
DB_ATTEMPTS = 30

log = logging.getLogger("spend-pipeline")


class ConfigError(Exception):
    def __init__(self, var: str, problem: str):
        super().__init__(f"{var}: {problem}")


class Fenced(Exception):
    """Another worker moved a partition's stored offset: this batch is not ours to write."""


@dataclass(frozen=True)
class Config:
    brokers: str
    topic: str
    group: str
    dsn: str
    schema: str
    window_ms: int
    batch: int
    instance: str
    defect: str


def _required(env: dict[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is required")
    return value


def _int(env: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise ConfigError(name, f"must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be in {lo}..{hi}, got {value}")
    return value


def load_config(env: dict[str, str]) -> Config:
    dsn = _required(env, "SPEND_PG_DSN")
    try:
        conninfo_to_dict(dsn)
    except psycopg.Error as e:
        raise ConfigError("SPEND_PG_DSN", f"cannot be parsed: {e}") from None
    schema = _required(env, "SPEND_PG_SCHEMA")
    if not SCHEMA_NAME.match(schema):
        raise ConfigError("SPEND_PG_SCHEMA", f"{schema!r} is not a lower-case identifier")
    topic = _required(env, "SPEND_TOPIC")
    if not TOPIC_NAME.match(topic):
        raise ConfigError("SPEND_TOPIC", f"{topic!r} is not a valid topic name")
    defect = env.get("SPEND_DEFECT", "").strip()
    if defect and defect not in DEFECTS:
        raise ConfigError("SPEND_DEFECT", f"unknown defect {defect!r}; known: {', '.join(DEFECTS)}")
    return Config(
        brokers=_required(env, "SPEND_BROKERS"),
        topic=topic,
        group=_required(env, "SPEND_CONSUMER_GROUP"),
        dsn=dsn,
        schema=schema,
        window_ms=_int(env, "SPEND_WINDOW_MS", 10_000, 1, 86_400_000),
        batch=_int(env, "SPEND_BATCH", 400, 1, 100_000),
        instance=env.get("SPEND_INSTANCE", "").strip() or f"{socket.gethostname()}-{os.getpid()}",
        defect=defect,
    )


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse(value: bytes | None) -> tuple[dict | None, str | None]:
    """The spend event in `value`, or None and the rejection reason."""
    try:
        doc = json.loads(value.decode("utf-8"), parse_constant=_refuse_constant)
    except (AttributeError, ValueError, RecursionError):
        return None, "not-json"
    if not isinstance(doc, dict):
        return None, "not-object"
    for name, (kind, lo, hi) in FIELDS.items():
        if name not in doc:
            return None, f"missing:{name}"
        v = doc[name]
        if not isinstance(v, kind) or isinstance(v, bool):
            return None, f"type:{name}"
        if lo is not None and not lo <= v <= hi:
            return None, f"range:{name}"
    for name, v in doc.items():
        if name in OPTIONAL:
            if not isinstance(v, OPTIONAL[name]):
                return None, f"type:{name}"
            if len(v) > 40:
                return None, f"range:{name}"
        elif name not in FIELDS:
            return None, f"unknown:{name}"
    if not doc["event_id"] or len(doc["event_id"]) > 64:
        return None, "range:event_id"
    if not ACCOUNT.match(doc["account"]):
        return None, "range:account"
    if doc["category"] not in CATEGORIES:
        return None, "enum:category"
    return doc, None


def window_start(event_ms: int, width: int, defect: str) -> int:
    if defect == "window-off-by-one":
        # BUG: an event exactly on a boundary is counted in the window before it.
        return (event_ms - 1) // width * width
    return event_ms // width * width


class Pipeline:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.stopping = False
        self.ready = False
        # partition -> the offset this worker believes is stored (where its next batch starts).
        self.position: dict[int, int] = {}
        self.callback_error: BaseException | None = None
        s = cfg.schema
        self.totals_sql = (
            f"INSERT INTO {s}.window_totals AS t (account, window_start_ms, events, amount_cents)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (account, window_start_ms) DO UPDATE"
            " SET events = t.events + EXCLUDED.events, amount_cents = t.amount_cents + EXCLUDED.amount_cents"
        )
        self.reject_sql = (
            f"INSERT INTO {s}.rejected_events (source_partition, source_offset, reason, raw)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
        )
        self.first_sql = (
            f"INSERT INTO {s}.first_spend AS f (account, event_id, event_ms) VALUES (%s, %s, %s)"
            " ON CONFLICT (account) DO UPDATE SET event_id = EXCLUDED.event_id, event_ms = EXCLUDED.event_ms"
            " WHERE (EXCLUDED.event_ms, EXCLUDED.event_id) < (f.event_ms, f.event_id)"
        )
        self.count_sql = (
            f"INSERT INTO {s}.counted_events (event_id) SELECT unnest(%s::text[])"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        )
        self.advance_sql = (
            f"UPDATE {s}.input_positions SET next_offset = %s"
            " WHERE topic = %s AND partition = %s AND next_offset = %s"
        )
        self.db = self._connect()
        self.consumer = Consumer(
            {
                "bootstrap.servers": cfg.brokers,
                "group.id": cfg.group,
                "client.id": f"spend-pipeline-{cfg.instance}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 10_000,
                "heartbeat.interval.ms": 3_000,
                "error_cb": self._kafka_error,
            }
        )

    def _connect(self) -> psycopg.Connection:
        extra = {"client_encoding": "utf8"}
        if "application_name" not in conninfo_to_dict(self.cfg.dsn):
            extra["application_name"] = f"spend-pipeline-{self.cfg.instance}"
        conn = psycopg.connect(self.cfg.dsn, autocommit=True, **extra)
        for table in ("window_totals", "first_spend", "input_positions", "counted_events", "rejected_events"):
            if conn.execute("SELECT to_regclass(%s)", [f"{self.cfg.schema}.{table}"]).fetchone()[0] is None:
                raise ConfigError("SPEND_PG_SCHEMA", f"schema {self.cfg.schema!r} has no table {table}: apply schema.sql")
        return conn

    def _kafka_error(self, err: KafkaError) -> None:
        if err.fatal():
            self.callback_error = KafkaException(err)
        log.warning("kafka: %s", err)

    def _on_assign(self, consumer, partitions) -> None:
        try:
            for p in partitions:
                p.offset = self._stored(p.partition)
                self.position[p.partition] = p.offset
            consumer.assign(partitions)
            log.info("assigned %s at %s", sorted(p.partition for p in partitions), [p.offset for p in partitions])
            if not self.ready:
                self.ready = True
                log.info("spend-pipeline ready (group %s, topic %s)", self.cfg.group, self.cfg.topic)
        except BaseException as e:
            self.callback_error = e

    def _on_revoke(self, consumer, partitions) -> None:
        for p in partitions:
            self.position.pop(p.partition, None)
        log.info("revoked %s", sorted(p.partition for p in partitions))

    def _stored(self, partition: int) -> int:
        for attempt in range(1, DB_ATTEMPTS + 1):
            try:
                self.db.execute(
                    f"INSERT INTO {self.cfg.schema}.input_positions (topic, partition, next_offset)"
                    " VALUES (%s, %s, 0) ON CONFLICT DO NOTHING",
                    [self.cfg.topic, partition],
                )
                row = self.db.execute(
                    f"SELECT next_offset FROM {self.cfg.schema}.input_positions WHERE topic = %s AND partition = %s",
                    [self.cfg.topic, partition],
                ).fetchone()
                return row[0] if row[0] > 0 else OFFSET_BEGINNING
            except psycopg.OperationalError:
                if attempt == DB_ATTEMPTS:
                    raise
                self._reconnect(attempt)
        raise AssertionError("unreachable")

    def _reconnect(self, attempt: int) -> None:
        log.warning("postgres connection lost; reconnecting, attempt %d", attempt)
        time.sleep(min(0.2 * attempt, 2.0))
        try:
            self.db.close()
        except psycopg.Error:
            pass
        try:
            self.db = self._connect()
        except psycopg.OperationalError as again:
            log.warning("reconnecting failed (%s)", str(again).splitlines()[0])

    def run(self) -> None:
        self.consumer.subscribe([self.cfg.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        try:
            while not self.stopping:
                msgs = self.consumer.consume(num_messages=self.cfg.batch, timeout=0.2)
                if self.callback_error is not None:
                    raise self.callback_error
                batch = []
                for m in msgs:
                    if m.error() is None:
                        batch.append(m)
                    elif m.error().fatal():
                        raise KafkaException(m.error())
                    else:
                        log.warning("consume: %s", m.error())
                if batch:
                    self._land(batch)
            log.info("stopping")
        finally:
            self.consumer.close()
            self.db.close()

    def _land(self, batch: list) -> None:
        """One transaction per batch; a fenced batch is dropped and its partitions re-read."""
        for attempt in range(1, DB_ATTEMPTS + 1):
            try:
                self._write(batch)
                return
            except Fenced as e:
                log.warning("fenced: %s; re-reading from the stored offsets", e)
                self._rewind({m.partition() for m in batch})
                return
            except psycopg.OperationalError:
                if attempt == DB_ATTEMPTS:
                    raise
                self._reconnect(attempt)

    def _rewind(self, partitions: set[int]) -> None:
        for p in sorted(partitions):
            if p in self.position:
                offset = self._stored(p)
                self.position[p] = offset
                self.consumer.seek(TopicPartition(self.cfg.topic, p, offset))

    def _write(self, batch: list) -> None:
        events = []
        rejected = []
        last: dict[int, int] = {}
        for m in batch:
            last[m.partition()] = m.offset() + 1
            doc, reason = parse(m.value())
            if doc is None:
                rejected.append((m.partition(), m.offset(), reason, m.value()))
            else:
                events.append(doc)
        with self.db.transaction(), self.db.cursor() as cur:
            for partition, next_offset in sorted(last.items()):
                start = self.position.get(partition)
                if start is None:
                    raise Fenced(f"partition {partition} is no longer assigned")
                cur.execute(self.advance_sql, [next_offset, self.cfg.topic, partition, max(start, 0)])
                if cur.rowcount != 1:
                    raise Fenced(f"partition {partition}'s stored offset is no longer {max(start, 0)}")
            if events:
                # Only events never counted before: a re-sent event_id adds nothing.
                cur.execute(self.count_sql, [[d["event_id"] for d in events]])
                new = {r[0] for r in cur.fetchall()}
                totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
                first: dict[str, tuple[int, str]] = {}
                for d in events:
                    if d["event_id"] in new:
                        new.discard(d["event_id"])
                        mark = (d["event_ms"], d["event_id"])
                        first[d["account"]] = min(first.get(d["account"], mark), mark)
                        cell = totals[(d["account"], window_start(d["event_ms"], self.cfg.window_ms, self.cfg.defect))]
                        cell[0] += 1
                        cell[1] += d["amount_cents"]
                if totals:
                    cur.executemany(self.totals_sql, [(a, w, n, s) for (a, w), (n, s) in sorted(totals.items())])
                if first:
                    cur.executemany(self.first_sql, [(a, e, ms) for a, (ms, e) in sorted(first.items())])
            if rejected:
                cur.executemany(self.reject_sql, rejected)
        self.position.update(last)


def main() -> int:
    try:
        cfg = load_config(dict(os.environ))
    except ConfigError as e:
        print(f"spend-pipeline: config error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format=f"%(asctime)s spend-pipeline[{cfg.instance}] %(levelname)s %(message)s",
    )
    if cfg.defect:
        log.warning("planted defect %s is enabled", cfg.defect)
    try:
        pipeline = Pipeline(cfg)
    except ConfigError as e:
        log.error("config error: %s", e)
        return 2

    def stop(signum, _frame):
        log.info("%s: stopping after this batch", signal.Signals(signum).name)
        pipeline.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        pipeline.run()
    except Exception as e:
        log.exception("failed: %s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
