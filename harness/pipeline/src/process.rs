//! Turns consumed records into outcomes: validate, enrich (per account, cached), score with the
//! champion and the shadow challenger.

use crate::config::Config;
use crate::enrich::{Enricher, OnOutage, Unavailable};
use crate::record::{Outcome, ProcessedRecord, Scored};
use crate::score::{features, Models};
use crate::validate::validate;

/// Why a batch could not be processed; nothing durable has changed, so the caller retries it.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The account-profile service did not answer usefully.
    #[error(transparent)]
    Enrichment(#[from] Unavailable),
    /// A model failed to score (e.g. an HTTP model's endpoint is down).
    #[error("{role} model `{version}` could not score transaction {transaction_id}: {cause}")]
    Scoring {
        role: &'static str,
        version: String,
        transaction_id: String,
        cause: String,
    },
}

/// Validation, enrichment and scoring for a batch.
pub struct Processor {
    enricher: Enricher,
    models: Models,
}

impl Processor {
    pub fn new(enrich_url: Option<String>, on_outage: OnOutage, models: Models) -> Self {
        Self {
            enricher: Enricher::new(enrich_url, on_outage),
            models,
        }
    }

    pub fn from_config(cfg: &Config) -> anyhow::Result<Self> {
        Ok(Self::new(
            cfg.enrich_url.clone(),
            cfg.on_outage,
            cfg.models.clone(),
        ))
    }

    /// Fills in every record's outcome. Fails (changing nothing durable) when the profile service is
    /// unavailable (unless [`OnOutage::Default`] scores on the default profile) or a model cannot
    /// score, so the caller can retry the whole batch.
    pub fn process(&mut self, batch: &mut [ProcessedRecord]) -> Result<(), ProcessError> {
        for r in batch.iter_mut() {
            r.outcome = match validate(&r.payload) {
                Err(rej) => Outcome::Rejected(rej),
                Ok(event) => {
                    let profile = self.enricher.profile(&event.account_id)?;
                    let f = features(&event, &profile);
                    let score = |role, m: &dyn faultline_models::Model| {
                        m.score(&f).map_err(|e| ProcessError::Scoring {
                            role,
                            version: m.version().to_string(),
                            transaction_id: event.transaction_id.clone(),
                            cause: e.to_string(),
                        })
                    };
                    let champion_score = score("champion", self.models.champion.as_ref())?;
                    let challenger_score = match &self.models.challenger {
                        Some(c) => Some(score("challenger", c.as_ref())?),
                        None => None,
                    };
                    Outcome::Valid(Box::new(Scored {
                        champion_score,
                        champion_version: self.models.champion.version().to_string(),
                        challenger_score,
                        challenger_version: self
                            .models
                            .challenger
                            .as_ref()
                            .map(|c| c.version().to_string()),
                        event,
                        profile,
                    }))
                }
            };
        }
        Ok(())
    }
}
