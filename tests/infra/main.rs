//! Infra integration tests: real Kafka and Postgres through the `containers` and `processes`
//! backends. Each test starts its own stack with its own topic, group and table names.

mod cleanup;
mod cluster;
mod lifecycle;
