//! The current time, injected so every expiry rule is testable without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in whole seconds, plus a settable offset used by tests.
#[derive(Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
    /// A fixed starting point instead of the system time (tests).
    frozen_at: Option<i64>,
}

fn system_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands still at the current time until advanced: expiry rules
    /// are then tested exactly, whatever the wall clock does meanwhile.
    pub fn frozen() -> Self {
        Clock {
            offset: Arc::default(),
            frozen_at: Some(system_seconds()),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.frozen_at.unwrap_or_else(system_seconds) + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
    }
}
