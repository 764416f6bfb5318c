//! The proxy's toxic list, shared with every pump of every open connection.
//!
//! Pumps do not poll it: each keeps a registered [`Notified`] and rereads the list only when a change
//! wakes it, so a connection with no toxics pays nothing per chunk beyond that wait.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::{Toxic, ToxicId};

/// The toxics of one proxy, in the order added.
pub(crate) type Toxics = Arc<[(ToxicId, Toxic)]>;

pub(crate) struct Board {
    toxics: Mutex<Toxics>,
    changed: Notify,
}

impl Default for Board {
    fn default() -> Board {
        Board {
            toxics: Mutex::new(Arc::new([])),
            changed: Notify::new(),
        }
    }
}

impl Board {
    /// Changes the list and wakes every pump.
    pub fn update(&self, change: impl FnOnce(&mut Vec<(ToxicId, Toxic)>)) {
        let mut toxics = self.toxics.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = toxics.to_vec();
        change(&mut next);
        *toxics = next.into();
        drop(toxics);
        self.changed.notify_waiters();
    }

    /// The current list; cheap (an `Arc` clone).
    pub fn toxics(&self) -> Toxics {
        self.toxics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A wake-up for the next change, registered before it returns: call it before reading
    /// [`Board::toxics`] so no change between the two is missed.
    pub fn next_change(&self) -> Pin<Box<Notified<'_>>> {
        let mut notified = Box::pin(self.changed.notified());
        notified.as_mut().enable();
        notified
    }
}
