-- spend-pipeline's tables, in the schema named by SPEND_PG_SCHEMA ({schema} is replaced).
CREATE SCHEMA IF NOT EXISTS {schema};

-- Card spend per account per tumbling event-time window (SPEND_WINDOW_MS wide).
CREATE TABLE IF NOT EXISTS {schema}.window_totals (
    account          text   NOT NULL,
    window_start_ms  bigint NOT NULL,
    events           bigint NOT NULL,
    amount_cents     bigint NOT NULL,
    PRIMARY KEY (account, window_start_ms)
);

-- Each account's first spend by event time (ties: the smaller event_id).
CREATE TABLE IF NOT EXISTS {schema}.first_spend (
    account   text   PRIMARY KEY,
    event_id  text   NOT NULL,
    event_ms  bigint NOT NULL
);

-- The next offset to read per partition, written in the same transaction as the totals: this is
-- where the pipeline keeps its position (it never commits offsets to Kafka).
CREATE TABLE IF NOT EXISTS {schema}.input_positions (
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- Every event counted, by its id: a re-sent event is counted once.
CREATE TABLE IF NOT EXISTS {schema}.counted_events (
    event_id text PRIMARY KEY
);

-- Records refused, once each, with the reason.
CREATE TABLE IF NOT EXISTS {schema}.rejected_events (
    source_partition integer NOT NULL,
    source_offset    bigint  NOT NULL,
    reason           text    NOT NULL,
    raw              bytea,
    PRIMARY KEY (source_partition, source_offset)
);
