//! Brute-force protection for password and one-time-code attempts, per account and
//! per client IP, with counters in the database (they hold across nodes).
//!
//! After a few failures each further one locks the key for an escalating delay
//! (1 s, 2 s, 4 s … capped at `max_lock`, 15 minutes by default); a quiet `window`
//! (an hour) forgets the failures. The budgets are settings (GATEHOUSE_THROTTLE_*).

use crate::store::throttles::{self, Throttle};
use crate::store::StoreError;
use sea_orm::ConnectionTrait;

/// Failures allowed before delays start, per kind of key, and the delays.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub account_attempts: i64,
    /// An IP is shared by many people (offices, NAT): it gets more room.
    pub ip_attempts: i64,
    /// A browser that signed in to the account before: its own budget, which
    /// failures from elsewhere do not spend.
    pub device_attempts: i64,
    pub max_lock: i64,
    pub window: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            account_attempts: 3,
            ip_attempts: 20,
            device_attempts: 5,
            max_lock: 15 * 60,
            window: 3600,
        }
    }
}

pub fn account_key(username: &str) -> String {
    format!("account:{}", username.trim().to_lowercase())
}

/// Wrong second factors count here, apart from the password's counter.
pub fn second_factor_key(user_id: &str) -> String {
    format!("mfa:{user_id}")
}

pub fn ip_key(ip: &str) -> String {
    format!("ip:{ip}")
}

/// The counter of one known device on one account.
pub fn device_key(device_id: &str, user_id: &str) -> String {
    format!("device:{device_id}:{user_id}")
}

fn free_attempts(key: &str, policy: &Policy) -> i64 {
    if key.starts_with("ip:") {
        policy.ip_attempts
    } else if key.starts_with("device:") {
        policy.device_attempts
    } else {
        policy.account_attempts
    }
}

/// The lock a failure count earns (pure): none within the free attempts, then
/// doubling from one second up to `max_lock`.
pub fn lock_seconds(failures: i64, free: i64, max_lock: i64) -> i64 {
    if failures <= free {
        return 0;
    }
    let exponent = (failures - free - 1).min(20) as u32;
    (1i64 << exponent).min(max_lock)
}

/// Seconds until `keys` may try again, if any of them is locked.
pub async fn retry_after(
    db: &impl ConnectionTrait,
    keys: &[String],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let mut wait = None;
    for key in keys {
        if let Some(Throttle {
            locked_until: Some(until),
            ..
        }) = throttles::find(db, key).await?
        {
            if until > now {
                wait = Some(wait.unwrap_or(0).max(until - now));
            }
        }
    }
    Ok(wait)
}

/// Records a failure for each key; returns true when one of them is now locked.
pub async fn record_failure(
    db: &impl ConnectionTrait,
    policy: &Policy,
    keys: &[String],
    now: i64,
) -> Result<bool, StoreError> {
    let mut locked = false;
    for key in keys {
        // A quiet window since the last failure forgets the earlier ones.
        if let Some(previous) = throttles::find(db, key).await? {
            if now - previous.updated_at > policy.window {
                throttles::clear(db, key).await?;
            }
        }
        let row = throttles::record_failure(db, key, now).await?;
        let seconds = lock_seconds(row.failures, free_attempts(key, policy), policy.max_lock);
        if seconds > 0 {
            throttles::lock_until(db, key, now + seconds).await?;
            locked = true;
        }
    }
    Ok(locked)
}

/// A request that spends a budget whatever its outcome (asking for a reset or a
/// sign-up mail): Some(seconds) while one of `keys` is locked; otherwise it is
/// counted against every key.
pub async fn count_request(
    db: &impl ConnectionTrait,
    policy: &Policy,
    keys: &[String],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    if let Some(wait) = retry_after(db, keys, now).await? {
        return Ok(Some(wait));
    }
    record_failure(db, policy, keys, now).await?;
    Ok(None)
}

/// Spends one of `limit` uses of `key` per `window` seconds (mails to one account
/// or address): false when none is left. The count is one atomic increment, so
/// nodes sending at the same moment cannot exceed it together.
pub async fn take_quota(
    db: &impl ConnectionTrait,
    key: &str,
    limit: i64,
    window: i64,
    now: i64,
) -> Result<bool, StoreError> {
    if let Some(row) = throttles::find(db, key).await? {
        if now - row.window_started_at >= window {
            throttles::clear(db, key).await?;
        }
    }
    Ok(throttles::record_failure(db, key, now).await?.failures <= limit)
}

/// A success clears that counter's failures (the IP's stay: one good password
/// must not reset a spray across many accounts).
pub async fn record_success(db: &impl ConnectionTrait, account: &str) -> Result<(), StoreError> {
    throttles::clear(db, account).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_escalate_after_the_free_attempts() {
        let max = Policy::default().max_lock;
        assert_eq!(lock_seconds(3, 3, max), 0);
        assert_eq!(lock_seconds(4, 3, max), 1);
        assert_eq!(lock_seconds(5, 3, max), 2);
        assert_eq!(lock_seconds(8, 3, max), 16);
        assert_eq!(lock_seconds(40, 3, max), max);
        assert_eq!(lock_seconds(40, 3, 60), 60);
    }
}
