//! Infra integration tests: real Kafka and Postgres through the `containers` and `processes`
//! backends, and `progress`, the runner's progress sources against them. Each test starts its own
//! stack with its own topic, group and table names. `detach` (the dockerd launcher), `stale`
//! (removing a SIGKILLed harness's temp dirs) and cleanup's signal tests need no services.

mod check_role;
mod cleanup;
mod cluster;
mod detach;
mod lifecycle;
mod progress;
mod stale;
