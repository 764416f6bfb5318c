//! The toxics a proxy applies are scenario data (`faultline_scenario::toxic`: `Toxic`, `ToxicKind`,
//! `Direction`, their validation and description); this module adds what only a running proxy
//! has, the id of each toxic it holds.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use faultline_scenario::toxic::{Direction, InvalidToxic, Toxic, ToxicKind};

/// Identifies a toxic on one proxy; ids count up from 1 in the order toxics are added, and also key
/// the toxic's random draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ToxicId(pub u64);

impl fmt::Display for ToxicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "toxic#{}", self.0)
    }
}
