//! A model served over HTTP: each row is POSTed as a JSON object of its features, and the endpoint
//! answers `{"score": <number in [0, 1]>}`.
//!
//! ```json
//! {"format": "http", "version": "fraud-svc-v7", "url": "http://127.0.0.1:8080/score",
//!  "features": ["amount_log", "is_debit"], "threshold": 0.5, "timeout_ms": 2000}
//! ```
//!
//! The client is blocking, like the [`Model`] trait. From inside a tokio runtime, call it (and
//! [`crate::compare`]) through `tokio::task::spawn_blocking`; reqwest's blocking client panics when
//! driven from an async task.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::error::{ModelError, Result};
use crate::model::fields::{finite, kind_of, Fields};
use crate::model::{feature, Model};

/// Request timeout when the file gives none.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;

/// A remote scoring endpoint.
#[derive(Debug)]
pub struct HttpModel {
    url: String,
    version: String,
    features: Vec<String>,
    threshold: f64,
    client: reqwest::blocking::Client,
}

impl HttpModel {
    /// A model at `url`; see the module docs for the wire format.
    pub fn new(
        url: impl Into<String>,
        version: impl Into<String>,
        features: Vec<String>,
        threshold: f64,
        timeout: Duration,
    ) -> Result<Self> {
        let url = url.into();
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ModelError::Http {
                url: url.clone(),
                problem: format!("cannot build client: {e}"),
            })?;
        Ok(HttpModel {
            url,
            version: version.into(),
            features,
            threshold,
            client,
        })
    }

    /// Reads a model file whose `format` is `http`.
    pub(crate) fn from_fields(f: &Fields<'_>) -> Result<Self> {
        f.deny_unknown(&[
            "format",
            "version",
            "url",
            "features",
            "threshold",
            "timeout_ms",
            "description",
        ])?;
        let url = f.string("url")?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(f.err(
                "url",
                format!("`{url}` must start with http:// or https://"),
            ));
        }
        let timeout = Duration::from_millis(f.opt_u64("timeout_ms")?.unwrap_or(DEFAULT_TIMEOUT_MS));
        Self::new(
            url,
            f.string("version")?,
            f.feature_list()?,
            f.threshold()?,
            timeout,
        )
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn err(&self, problem: impl Into<String>) -> ModelError {
        ModelError::Http {
            url: self.url.clone(),
            problem: problem.into(),
        }
    }
}

impl Model for HttpModel {
    fn format(&self) -> &'static str {
        "http"
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn feature_names(&self) -> &[String] {
        &self.features
    }

    fn score(&self, features: &BTreeMap<String, f64>) -> Result<f64> {
        let body = self
            .features
            .iter()
            .map(|n| feature(&self.version, features, n).map(|v| (n.as_str(), v)))
            .collect::<Result<BTreeMap<&str, f64>>>()?;
        let resp = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .map_err(|e| self.err(format!("request failed: {e}")))?;
        let status = resp.status();
        let text = resp
            .text()
            .map_err(|e| self.err(format!("reading the response failed: {e}")))?;
        if !status.is_success() {
            let snippet: String = text.chars().take(200).collect();
            return Err(self.err(format!("answered {status}: {snippet}")));
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            self.err(format!(
                "response is not JSON ({e}); expected {{\"score\": <number>}}"
            ))
        })?;
        let score = value
            .get("score")
            .ok_or_else(|| self.err("response lacks field `score`"))?;
        finite(score)
            .map_err(|p| self.err(format!("field `score`: {p}")))
            .and_then(|s| {
                if (0.0..=1.0).contains(&s) {
                    Ok(s)
                } else {
                    Err(self.err(format!(
                        "field `score`: {} is outside [0, 1]",
                        kind_of(score)
                    )))
                }
            })
    }

    fn threshold(&self) -> f64 {
        self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// Builds (and later drops) the blocking client off the runtime threads, where reqwest wants it.
    fn model(uri: String) -> HttpModel {
        HttpModel::new(
            format!("{uri}/score"),
            "svc-v1",
            vec!["amount_log".into(), "is_debit".into()],
            0.5,
            Duration::from_secs(5),
        )
        .unwrap()
    }

    fn row() -> BTreeMap<String, f64> {
        [
            ("amount_log".to_string(), 2.5),
            ("is_debit".to_string(), 1.0),
            ("ignored".to_string(), 3.0),
        ]
        .into()
    }

    /// Runs blocking client code off the async test's runtime threads.
    async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(f).await.unwrap()
    }

    #[tokio::test]
    async fn posts_only_declared_features_and_reads_the_score() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/score"))
            .and(body_json(
                serde_json::json!({"amount_log": 2.5, "is_debit": 1.0}),
            ))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"score": 0.75})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let uri = server.uri();
        let score = blocking(move || model(uri).score(&row())).await.unwrap();
        assert_eq!(score, 0.75);
    }

    #[tokio::test]
    async fn server_errors_and_bad_bodies_name_the_url_and_the_problem() {
        let cases = [
            (
                ResponseTemplate::new(503).set_body_string("overloaded"),
                "503",
            ),
            (ResponseTemplate::new(200).set_body_string("ok"), "not JSON"),
            (
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"p": 0.1})),
                "lacks field `score`",
            ),
            (
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"score": "high"})),
                "field `score`: expected a finite number",
            ),
            (
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"score": 4.0})),
                "outside [0, 1]",
            ),
        ];
        for (response, expected) in cases {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(response)
                .mount(&server)
                .await;
            let uri = server.uri();
            let e = blocking(move || model(uri).score(&row()))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(&server.uri()), "{e}");
            assert!(e.contains(expected), "expected `{expected}` in {e}");
        }
    }

    #[tokio::test]
    async fn loads_from_a_model_file_and_scores_a_matrix() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"score": 0.25})),
            )
            .expect(2)
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("svc.json");
        let text = format!(
            r#"{{"format":"http","version":"svc","url":"{}/score","features":["is_debit"],"threshold":0.2,"timeout_ms":1000}}"#,
            server.uri()
        );
        std::fs::write(&p, text).unwrap();
        let scores = blocking(move || {
            let m = crate::load_model(&p).unwrap();
            let mut matrix = crate::FeatureMatrix::new(vec!["is_debit".into()]);
            matrix.push_row(&[1.0]);
            matrix.push_row(&[0.0]);
            m.score_matrix(&matrix)
        })
        .await
        .unwrap();
        assert_eq!(scores, vec![0.25, 0.25]);
    }

    #[test]
    fn non_http_url_is_rejected_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("svc.json");
        std::fs::write(
            &p,
            r#"{"format":"http","version":"svc","url":"ftp://x","features":["a"],"threshold":0.5}"#,
        )
        .unwrap();
        let e = crate::load_model(&p).unwrap_err().to_string();
        assert!(e.contains("svc.json") && e.contains("field `url`"), "{e}");
    }
}
