//! Turns consumed records into outcomes: validate, enrich (per account, cached), score with the
//! champion and the shadow challenger.

use crate::config::Config;
use crate::enrich::{Enricher, Unavailable};
use crate::record::{Outcome, ProcessedRecord, Scored};
use crate::score::{builtin_challenger, builtin_champion, features, Scorer};
use crate::validate::validate;

/// Validation, enrichment and scoring for a batch.
pub struct Processor {
    enricher: Enricher,
    champion: Box<dyn Scorer>,
    challenger: Option<Box<dyn Scorer>>,
}

impl Processor {
    pub fn new(enrich_url: Option<String>, champion: Box<dyn Scorer>, challenger: Option<Box<dyn Scorer>>) -> Self {
        Self { enricher: Enricher::new(enrich_url), champion, challenger }
    }

    pub fn from_config(cfg: &Config) -> anyhow::Result<Self> {
        Ok(Self::new(cfg.enrich_url.clone(), Box::new(builtin_champion()), Some(Box::new(builtin_challenger()))))
    }

    /// Fills in every record's outcome. Fails (changing nothing durable) when the profile service is
    /// unavailable, so the caller can retry the whole batch.
    pub fn process(&mut self, batch: &mut [ProcessedRecord]) -> Result<(), Unavailable> {
        for r in batch.iter_mut() {
            r.outcome = match validate(&r.payload) {
                Err(rej) => Outcome::Rejected(rej),
                Ok(event) => {
                    let profile = self.enricher.profile(&event.account_id)?;
                    let f = features(&event, &profile);
                    Outcome::Valid(Box::new(Scored {
                        champion_score: self.champion.score(&f),
                        champion_version: self.champion.version().to_string(),
                        challenger_score: self.challenger.as_ref().map(|c| c.score(&f)),
                        challenger_version: self.challenger.as_ref().map(|c| c.version().to_string()),
                        event,
                        profile,
                    }))
                }
            };
        }
        Ok(())
    }
}
