-- The payments sink's tables. Every `{schema}` is replaced by the schema name (a lower-case
-- identifier) by whoever applies the file: faultline's [setup] sql, or an operator with sed.
-- Safe to apply twice; nothing outside that schema is created.

CREATE SCHEMA IF NOT EXISTS {schema};

-- Each payment as of its newest event (highest seq), whatever order the events arrived in.
CREATE TABLE IF NOT EXISTS {schema}.payments (
    payment_id       text        PRIMARY KEY,
    account_id       text        NOT NULL,
    status           text        NOT NULL,
    seq              bigint      NOT NULL CHECK (seq >= 1),
    amount_minor     bigint      NOT NULL CHECK (amount_minor >= 0),
    currency         char(3)     NOT NULL,
    occurred_at      timestamptz NOT NULL,
    -- Lineage: the input record that last moved this row.
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL
);

-- The event history: each (payment_id, seq) once, as first written. Inserting here is what decides
-- whether an event is new, and only new events move account_totals.
CREATE TABLE IF NOT EXISTS {schema}.payment_events (
    payment_id       text        NOT NULL,
    seq              bigint      NOT NULL,
    account_id       text        NOT NULL,
    status           text        NOT NULL,
    amount_minor     bigint      NOT NULL,
    currency         char(3)     NOT NULL,
    occurred_at      timestamptz NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    PRIMARY KEY (payment_id, seq)
);

-- Per account and currency: distinct events seen, money captured and money refunded.
CREATE TABLE IF NOT EXISTS {schema}.account_totals (
    account_id     text    NOT NULL,
    currency       char(3) NOT NULL,
    events         bigint  NOT NULL,
    captured_minor bigint  NOT NULL,
    refunded_minor bigint  NOT NULL,
    PRIMARY KEY (account_id, currency)
);
