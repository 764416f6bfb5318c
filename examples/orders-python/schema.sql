-- Tables of the orders pipeline. `{schema}` is a placeholder: whoever applies this file (the faultline
-- harness through the manifest's [setup], or the pipeline itself with ORDERS_CREATE_SCHEMA=1)
-- replaces every `{schema}` with the schema name, a plain lower-case identifier. Idempotent, and it
-- creates nothing outside that schema.

CREATE SCHEMA IF NOT EXISTS {schema};

-- The current state of each order: the valid event with the highest version wins.
CREATE TABLE IF NOT EXISTS {schema}.orders (
    order_id         text PRIMARY KEY,
    status           text        NOT NULL,
    version          bigint      NOT NULL,
    amount_cents     bigint      NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- Lineage: where the event that set this row came from.
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL
);

-- Every distinct (order_id, version) ever applied, once: what makes the counts below idempotent.
CREATE TABLE IF NOT EXISTS {schema}.order_events (
    order_id         text        NOT NULL,
    version          bigint      NOT NULL,
    status           text        NOT NULL,
    amount_cents     bigint      NOT NULL,
    updated_at       timestamptz NOT NULL,
    source_partition integer     NOT NULL,
    source_offset    bigint      NOT NULL,
    PRIMARY KEY (order_id, version)
);

-- How many distinct order events reached each status (a dashboard's view of the flow).
CREATE TABLE IF NOT EXISTS {schema}.order_status_counts (
    status text PRIMARY KEY,
    events bigint NOT NULL
);
