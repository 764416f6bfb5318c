#!/usr/bin/env python3
"""orders-pipeline: order events from Kafka -> the current state of each order in Postgres.

Effectively once: offsets are committed to Kafka only after the batch's Postgres transaction has
committed, so a crash redelivers, and the version-guarded upsert makes a redelivery change nothing.
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
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from psycopg.conninfo import conninfo_to_dict

STATUSES = frozenset({"created", "paid", "shipped", "delivered", "cancelled"})
BUGS = ("commit-before-db", "non-idempotent", "stale-overwrite")
# Tries of one batch's transaction before the worker gives up (exits 1) on a lost database.
DB_ATTEMPTS = 30
# Checked in this order; the first failure is the record's dead-letter reason.
FIELDS = (
    ("order_id", str),
    ("status", str),
    ("version", int),
    ("amount_cents", int),
    ("updated_at", str),
)
INT64_MAX = 2**63 - 1
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
TOPIC_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
SCHEMA_SQL = Path(__file__).resolve().with_name("schema.sql")
# Dead-letter headers: why the record was refused and where it came from.
REASON_HEADER = "orders.dlq.reason"
SOURCE_HEADERS = ("orders.source.topic", "orders.source.partition", "orders.source.offset")
# Commit failures that only mean the partitions moved to another member during a rebalance: the batch
# is already in Postgres, so the new owner's redelivery of it is harmless.
REBALANCE_ERRORS = {
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError._NO_OFFSET,
}

log = logging.getLogger("orders-pipeline")


class ConfigError(Exception):
    """A bad or missing variable: the process exits 2 with this message."""

    def __init__(self, var: str, problem: str):
        super().__init__(f"{var}: {problem}")


@dataclass(frozen=True)
class Config:
    bootstrap: str
    topic: str
    dlq_topic: str
    group_id: str
    database_url: str
    schema: str
    batch_size: int
    linger_ms: int
    session_timeout_ms: int
    worker_id: str
    bug: str
    create_schema: bool


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


def _topic(env: dict[str, str], name: str) -> str:
    value = _required(env, name)
    if not TOPIC_NAME.match(value):
        raise ConfigError(name, f"{value!r} is not a valid topic name ([A-Za-z0-9._-], 1-249 chars)")
    return value


def load_config(env: dict[str, str]) -> Config:
    url = _required(env, "DATABASE_URL")
    if not url.startswith(("postgres://", "postgresql://")):
        raise ConfigError("DATABASE_URL", "must be a postgres:// or postgresql:// URL")
    try:
        conninfo_to_dict(url)
    except psycopg.Error as e:
        raise ConfigError("DATABASE_URL", f"cannot be parsed: {e}") from None
    schema = _required(env, "ORDERS_SCHEMA")
    if not SCHEMA_NAME.match(schema):
        raise ConfigError("ORDERS_SCHEMA", f"{schema!r} is not a lower-case identifier ([a-z_][a-z0-9_]*)")
    topic, dlq = _topic(env, "ORDERS_TOPIC"), _topic(env, "ORDERS_DLQ_TOPIC")
    if topic == dlq:
        raise ConfigError("ORDERS_DLQ_TOPIC", "must differ from ORDERS_TOPIC")
    bug = env.get("ORDERS_BUG", "").strip()
    if bug and bug not in BUGS:
        raise ConfigError("ORDERS_BUG", f"unknown bug {bug!r}; known: {', '.join(BUGS)}")
    create = env.get("ORDERS_CREATE_SCHEMA", "0").strip() or "0"
    if create not in ("0", "1"):
        raise ConfigError("ORDERS_CREATE_SCHEMA", f"must be 0 or 1, got {create!r}")
    return Config(
        bootstrap=_required(env, "KAFKA_BOOTSTRAP_SERVERS"),
        topic=topic,
        dlq_topic=dlq,
        group_id=_required(env, "ORDERS_GROUP_ID"),
        database_url=url,
        schema=schema,
        batch_size=_int(env, "ORDERS_BATCH_SIZE", 500, 1, 100_000),
        linger_ms=_int(env, "ORDERS_LINGER_MS", 100, 0, 60_000),
        session_timeout_ms=_int(env, "ORDERS_SESSION_TIMEOUT_MS", 10_000, 1_000, 3_600_000),
        worker_id=env.get("ORDERS_WORKER_ID", "").strip() or f"{socket.gethostname()}-{os.getpid()}",
        bug=bug,
        create_schema=create == "1",
    )


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def validate(key: bytes | None, value: bytes | None) -> tuple[dict | None, str | None]:
    """The order event in `value`, or None and the dead-letter reason."""
    try:
        doc = json.loads(value.decode("utf-8"), parse_constant=_refuse_constant)
    except (AttributeError, ValueError):  # AttributeError: a null value (tombstone)
        return None, "not-json"
    except RecursionError:  # a poison pill: JSON nested deeper than the parser's stack
        return None, "not-json"
    if not isinstance(doc, dict):
        return None, "not-object"
    for name, kind in FIELDS:
        if doc.get(name) is None:
            return None, f"missing-field:{name}"
        # bool is an int in Python, never in JSON.
        if not isinstance(doc[name], kind) or isinstance(doc[name], bool):
            return None, f"wrong-type:{name}"
    if doc["status"] not in STATUSES:
        return None, "unknown-status"
    if not doc["order_id"]:
        return None, "invalid-value:order_id"
    for name in ("version", "amount_cents"):
        if not 0 <= doc[name] <= INT64_MAX:
            return None, f"invalid-value:{name}"
    if not RFC3339.match(doc["updated_at"]):
        return None, "invalid-value:updated_at"
    try:
        doc["updated_at"] = datetime.fromisoformat(doc["updated_at"])
    except ValueError:
        return None, "invalid-value:updated_at"
    if key is None or key != doc["order_id"].encode("utf-8"):
        return None, "key-mismatch"
    return doc, None


class Pipeline:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.stopping = False
        self.failed = False
        self.ready = False
        self.pending: list = []
        self.callback_error: BaseException | None = None
        self.delivery_errors: list[str] = []
        s = cfg.schema
        guard = "" if cfg.bug == "stale-overwrite" else " WHERE o.version < EXCLUDED.version"
        self.upsert_sql = (
            f"INSERT INTO {s}.orders AS o (order_id, status, version, amount_cents, updated_at,"
            " source_partition, source_offset) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status,"
            " version = EXCLUDED.version, amount_cents = EXCLUDED.amount_cents,"
            " updated_at = EXCLUDED.updated_at, source_partition = EXCLUDED.source_partition,"
            f" source_offset = EXCLUDED.source_offset{guard}"
        )
        self.event_sql = (
            f"INSERT INTO {s}.order_events (order_id, status, version, amount_cents, updated_at,"
            " source_partition, source_offset) VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (order_id, version) DO NOTHING RETURNING status"
        )
        self.count_sql = (
            f"INSERT INTO {s}.order_status_counts AS c (status, events) VALUES (%s, %s)"
            " ON CONFLICT (status) DO UPDATE SET events = c.events + EXCLUDED.events"
        )
        self.db = self._connect()
        self.producer = Producer(
            {
                "bootstrap.servers": cfg.bootstrap,
                "client.id": f"orders-pipeline-{cfg.worker_id}-dlq",
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "error_cb": self._kafka_error,
            }
        )
        self.consumer = Consumer(
            {
                "bootstrap.servers": cfg.bootstrap,
                "group.id": cfg.group_id,
                "client.id": f"orders-pipeline-{cfg.worker_id}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": cfg.session_timeout_ms,
                "heartbeat.interval.ms": min(3_000, cfg.session_timeout_ms // 3),
                "error_cb": self._kafka_error,
            }
        )

    # --- startup -----------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        extra = {}
        # An application_name in DATABASE_URL (the harness puts one there) is kept as it is.
        if "application_name" not in conninfo_to_dict(self.cfg.database_url):
            extra["application_name"] = f"orders-pipeline-{self.cfg.worker_id}"
        # Text as str whatever the database's encoding: under SQL_ASCII psycopg would hand back
        # bytes, which then go back in as bytea ('\x6372...' in a text column).
        extra["client_encoding"] = "utf8"
        conn = psycopg.connect(self.cfg.database_url, autocommit=True, **extra)
        if self.cfg.create_schema:
            ddl = SCHEMA_SQL.read_text().replace("{schema}", self.cfg.schema)
            with conn.transaction():
                # Two workers starting together must not race on CREATE ... IF NOT EXISTS.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"orders-schema:{self.cfg.schema}"])
                conn.execute(ddl)
        for table in ("orders", "order_events", "order_status_counts"):
            found = conn.execute("SELECT to_regclass(%s)", [f"{self.cfg.schema}.{table}"]).fetchone()[0]
            if found is None:
                raise ConfigError(
                    "ORDERS_SCHEMA",
                    f"schema {self.cfg.schema!r} has no table {table}: apply schema.sql or set ORDERS_CREATE_SCHEMA=1",
                )
        return conn

    # --- callbacks (run inside consume/flush/close) -------------------------------------------

    def _kafka_error(self, err: KafkaError) -> None:
        if err.fatal():
            self.callback_error = KafkaException(err)
        log.warning("kafka: %s", err)

    def _on_assign(self, consumer, partitions) -> None:
        log.info("assigned %s", sorted(p.partition for p in partitions))
        self._log_ready()

    def _on_revoke(self, consumer, partitions) -> None:
        # The partitions are still ours until this returns: land what is pending and commit it.
        log.info("revoked %s", sorted(p.partition for p in partitions))
        if self.failed:
            return
        try:
            self.flush_batch()
        except BaseException as e:  # raised again from run(): a callback cannot propagate it
            self.callback_error = e

    def _on_lost(self, consumer, partitions) -> None:
        # Already someone else's: nothing may be committed; the new owner redelivers it.
        log.warning("lost %s; dropping %d pending records", sorted(p.partition for p in partitions), len(self.pending))
        self.pending.clear()

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self.delivery_errors.append(str(err))

    def _log_ready(self) -> None:
        if not self.ready:
            self.ready = True
            log.info("orders-pipeline ready (group %s, topic %s)", self.cfg.group_id, self.cfg.topic)

    def _raise_callback_error(self) -> None:
        if self.callback_error is not None:
            err, self.callback_error = self.callback_error, None
            raise err

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        self.consumer.subscribe(
            [self.cfg.topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        try:
            while not self.stopping:
                self._fill_batch()
                self.flush_batch()
            log.info("stopping: batch landed and committed")
        except BaseException:
            self.failed = True
            raise
        finally:
            self.consumer.close()  # leaves the group (on_revoke flushes unless failed)
            self.producer.flush(10)
            self.db.close()
        self._raise_callback_error()

    def _fill_batch(self) -> None:
        """Consumes until the batch is full, its linger has passed since its first record, or stop."""
        deadline = None
        while len(self.pending) < self.cfg.batch_size and not self.stopping:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            # Short waits so SIGTERM is noticed promptly.
            timeout = 0.1 if deadline is None else min(0.1, deadline - now)
            msgs = self.consumer.consume(num_messages=self.cfg.batch_size - len(self.pending), timeout=timeout)
            self._raise_callback_error()
            self._log_ready()
            for m in msgs:
                err = m.error()
                if err is None:
                    self.pending.append(m)
                elif err.fatal():
                    raise KafkaException(err)
                else:
                    log.warning("consume: %s", err)
            if self.pending and deadline is None:
                deadline = time.monotonic() + self.cfg.linger_ms / 1000

    def flush_batch(self) -> None:
        """Lands the pending records: dead letters, then one Postgres transaction, then the offsets."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        valid, dead = [], 0
        for m in batch:
            doc, reason = validate(m.key(), m.value())
            if doc is None:
                dead += 1
                self._dead_letter(m, reason)
            else:
                valid.append((doc, m.partition(), m.offset()))
        if dead:
            # Durable before the offsets that skip these records are committed.
            left = self.producer.flush(30)
            if left or self.delivery_errors:
                raise RuntimeError(f"dead-letter delivery failed ({left} undelivered): {self.delivery_errors[:3]}")
        next_offsets: dict[tuple[str, int], int] = {}
        for m in batch:
            tp = (m.topic(), m.partition())
            next_offsets[tp] = max(next_offsets.get(tp, 0), m.offset() + 1)
        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(next_offsets.items())]
        if self.cfg.bug == "commit-before-db":
            self._commit(offsets)  # BUG: a crash before the transaction commits loses this batch
        self._write(valid)
        if self.cfg.bug != "commit-before-db":
            self._commit(offsets)

    def _dead_letter(self, m, reason: str) -> None:
        headers = [(REASON_HEADER, reason)] + list(
            zip(SOURCE_HEADERS, (m.topic(), str(m.partition()), str(m.offset())))
        )
        self.producer.produce(
            self.cfg.dlq_topic, key=m.key(), value=m.value(), headers=headers, on_delivery=self._on_delivery
        )

    def _write(self, valid: list) -> None:
        """One transaction for the batch, retried on a fresh connection when the connection is lost
        (a restarted or terminated backend, or a COMMIT whose answer never came). A retry is safe:
        an in-doubt transaction that did commit makes the retry insert and count nothing new."""
        if not valid:
            return
        for attempt in range(1, DB_ATTEMPTS + 1):
            try:
                self._write_once(valid)
                return
            except psycopg.OperationalError as e:
                if attempt == DB_ATTEMPTS:
                    raise
                log.warning("postgres connection lost (%s); reconnecting, attempt %d", str(e).splitlines()[0], attempt)
                time.sleep(min(0.2 * attempt, 2.0))
                try:
                    self.db.close()
                except psycopg.Error:
                    pass
                try:
                    self.db = self._connect()
                except psycopg.OperationalError as again:
                    log.warning("reconnecting failed (%s)", str(again).splitlines()[0])

    def _write_once(self, valid: list) -> None:
        rows = [
            (d["order_id"], d["status"], d["version"], d["amount_cents"], d["updated_at"], part, off)
            for d, part, off in valid
        ]
        with self.db.transaction(), self.db.cursor() as cur:
            # In arrival order: the version guard keeps the highest version whatever the order.
            cur.executemany(self.upsert_sql, rows)
            cur.executemany(self.event_sql, rows, returning=True)
            new_statuses: list[str] = []
            while True:
                new_statuses.extend(r[0] for r in cur.fetchall())
                if not cur.nextset():
                    break
            if self.cfg.bug == "non-idempotent":
                counted = Counter(r[1] for r in rows)  # BUG: every delivery, redeliveries included
            else:
                counted = Counter(new_statuses)  # only events this transaction inserted
            cur.executemany(self.count_sql, sorted(counted.items()))

    def _commit(self, offsets: list[TopicPartition]) -> None:
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() not in REBALANCE_ERRORS:
                raise
            log.warning("offset commit skipped (%s): the new owner redelivers, harmlessly", e.args[0])


def main() -> int:
    try:
        cfg = load_config(dict(os.environ))
    except ConfigError as e:
        print(f"orders-pipeline: config error: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format=f"%(asctime)s orders-pipeline[{cfg.worker_id}] %(levelname)s %(message)s",
    )
    if cfg.bug:
        log.warning("planted bug %s is enabled", cfg.bug)
    try:
        pipeline = Pipeline(cfg)
    except ConfigError as e:
        log.error("config error: %s", e)
        return 2

    def stop(signum, _frame):
        log.info("%s: finishing the batch", signal.Signals(signum).name)
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
