//! Pipeline knobs: tuning values a scenario may need (small batches so a kill lands mid-batch, a short
//! session timeout so a pause makes a zombie). A scenario sets them by name in `[pipeline.knobs]`; a
//! pipeline manifest says which of the pipeline's own variables stands for each one.

use serde::{Deserialize, Serialize};

/// Declares `Knob`: each knob with its name and what it means.
macro_rules! knobs {
    ($( $(#[doc = $doc:literal])+ $var:ident = $name:literal; )+) => {
        /// A tuning value that scenarios set and pipelines map to their own variables.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Knob {
            $( $(#[doc = $doc])+ $var, )+
        }

        impl Knob {
            /// Every knob, in the order the docs list them.
            pub const ALL: &[Knob] = &[$(Knob::$var),+];

            /// The name used in `[pipeline.knobs]` and in a manifest's `[knobs]`.
            pub fn name(self) -> &'static str {
                match self { $( Knob::$var => $name, )+ }
            }

            /// What it means, in one line.
            pub fn doc(self) -> &'static str {
                match self { $( Knob::$var => concat!($($doc),+).trim_ascii(), )+ }
            }
        }
    };
}

knobs! {
    /// Records in one batch before the pipeline commits it.
    BatchMaxRecords = "batch_max_records";
    /// Milliseconds the pipeline waits to fill a batch before it commits what it has.
    BatchLingerMs = "batch_linger_ms";
    /// The consumer group session timeout, in milliseconds: how long a silent worker keeps its
    /// partitions (a `pause_worker` shorter than this makes no zombie).
    SessionTimeoutMs = "session_timeout_ms";
}

impl Knob {
    /// The knob named `name`.
    pub fn from_name(name: &str) -> Option<Knob> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// `batch_max_records, batch_linger_ms, ...` for error messages.
    pub fn list() -> String {
        Self::ALL
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Knob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
