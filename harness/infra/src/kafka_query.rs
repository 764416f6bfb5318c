//! Kafka metadata queries that ride out a leader election.
//!
//! While a broker is down or a partition's leader moves, a watermark or metadata request can come
//! back `NotLeaderForPartition`, `LeaderNotAvailable` or a transport error for a few seconds. Those
//! answers say "ask again", not "the data is wrong", so the harness asks again until its deadline.
//! Any other error, and a transient one past the deadline, is returned as it came.

use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::metadata::Metadata;

/// How long between two tries.
const PAUSE: Duration = Duration::from_millis(250);

/// True for the answers a broker gives while leadership or connections are settling.
pub fn is_transient(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::NotLeaderForPartition
                | C::LeaderNotAvailable
                | C::FencedLeaderEpoch
                | C::UnknownLeaderEpoch
                | C::OffsetNotAvailable
                | C::RequestTimedOut
                | C::OperationTimedOut
                | C::NetworkException
                | C::BrokerTransportFailure
                | C::AllBrokersDown
                | C::BrokerNotAvailable
                | C::CoordinatorLoadInProgress
                | C::CoordinatorNotAvailable
                | C::NotCoordinator
                | C::KafkaStorageError
                | C::ReplicaNotAvailable
        )
    )
}

/// Calls `f` until it succeeds, fails with a non-transient error, or `within` has passed.
pub fn retrying<T>(within: Duration, mut f: impl FnMut() -> KafkaResult<T>) -> KafkaResult<T> {
    let deadline = Instant::now() + within;
    loop {
        match f() {
            Err(e) if is_transient(&e) && Instant::now() + PAUSE < deadline => {
                std::thread::sleep(PAUSE)
            }
            other => return other,
        }
    }
}

/// `(low, high)` watermarks of one partition, asked again through a leader election.
pub fn watermarks<X: ConsumerContext + 'static>(
    consumer: &impl Consumer<X>,
    topic: &str,
    partition: i32,
    within: Duration,
) -> KafkaResult<(i64, i64)> {
    retrying(within, || {
        consumer.fetch_watermarks(topic, partition, per_try(within))
    })
}

/// Metadata of `topic` (or of the cluster), asked again through a leader election.
pub fn metadata<X: ConsumerContext + 'static>(
    consumer: &impl Consumer<X>,
    topic: Option<&str>,
    within: Duration,
) -> KafkaResult<Metadata> {
    retrying(within, || consumer.fetch_metadata(topic, per_try(within)))
}

/// One try's own timeout: a tenth of the budget, between 2 and 10 s.
fn per_try(within: Duration) -> Duration {
    (within / 10).clamp(Duration::from_secs(2), Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leadership_answers_are_asked_again_and_others_are_not() {
        let not_leader = KafkaError::MetadataFetch(RDKafkaErrorCode::NotLeaderForPartition);
        assert!(is_transient(&not_leader));
        assert!(is_transient(&KafkaError::MetadataFetch(
            RDKafkaErrorCode::AllBrokersDown
        )));
        let unknown = KafkaError::MetadataFetch(RDKafkaErrorCode::TopicAuthorizationFailed);
        assert!(!is_transient(&unknown));
    }

    #[test]
    fn a_transient_error_is_retried_until_an_answer_comes() {
        let mut tries = 0;
        let got = retrying(Duration::from_secs(5), || {
            tries += 1;
            if tries < 3 {
                Err(KafkaError::MetadataFetch(
                    RDKafkaErrorCode::NotLeaderForPartition,
                ))
            } else {
                Ok(tries)
            }
        });
        assert_eq!(got.unwrap(), 3);
    }

    #[test]
    fn a_lasting_error_is_returned_once_the_budget_is_spent() {
        let mut tries = 0;
        let got: KafkaResult<()> = retrying(Duration::from_millis(600), || {
            tries += 1;
            Err(KafkaError::MetadataFetch(
                RDKafkaErrorCode::NotLeaderForPartition,
            ))
        });
        assert!(matches!(
            got,
            Err(KafkaError::MetadataFetch(
                RDKafkaErrorCode::NotLeaderForPartition
            ))
        ));
        assert!((2..=4).contains(&tries), "{tries} tries");
    }

    #[test]
    fn a_permanent_error_is_returned_at_once() {
        let mut tries = 0;
        let got: KafkaResult<()> = retrying(Duration::from_secs(5), || {
            tries += 1;
            Err(KafkaError::MetadataFetch(
                RDKafkaErrorCode::TopicAuthorizationFailed,
            ))
        });
        assert!(got.is_err());
        assert_eq!(tries, 1);
    }
}
