//! Example pipelines under examples/, run unmodified as their own processes against real Kafka and
//! real Postgres, configured only through their own variable names; every test asserts on the data.
//!
//! - `orders`: driving examples/orders-python and the expected end state computed from its events
//! - `orders_python`: the tests: kill and replace, forced redelivery, one test per planted bug
//! - `manifest`: orders-python and payments-java (Java, kafka-clients and JDBC) driven by
//!   `faultline run --pipeline` on the smoke suite, and each buggy variant caught by the
//!   differential check; the golden snapshot cycle (pending, accepted, drift) on orders-python

mod manifest;
mod orders;
mod orders_python;
