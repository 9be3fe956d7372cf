//! How a SQLite connection waits for the write lock. SQLite's default busy handler
//! (what sqlx installs) sleeps 1, 2, 5, 10, 15, 20, 25 … ms between attempts, while a
//! Gatehouse write holds the lock for tens of microseconds: a refresh that met
//! another one slept a thousand times longer than it had to wait. This handler
//! starts at 20 µs and doubles up to 1 ms, giving up after about 5 s like sqlx's
//! default busy timeout.

use std::os::raw::{c_int, c_void};
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnection;

const FIRST_WAIT_US: u64 = 20;
const LONGEST_WAIT_US: u64 = 1_000;
/// Invocations before SQLITE_BUSY goes to the caller (≈ 5 s of waiting).
const GIVE_UP_AFTER: c_int = 5_000;

/// The wait before attempt `count + 1` (pure).
pub fn backoff(count: c_int) -> Option<Duration> {
    if count >= GIVE_UP_AFTER {
        return None;
    }
    let doublings = count.clamp(0, 16) as u32;
    Some(Duration::from_micros(
        (FIRST_WAIT_US << doublings).min(LONGEST_WAIT_US),
    ))
}

extern "C" fn busy_handler(_: *mut c_void, count: c_int) -> c_int {
    // Runs on the connection's own thread (sqlx's worker), never on the runtime's.
    match backoff(count) {
        Some(wait) => {
            std::thread::sleep(wait);
            1
        }
        None => 0,
    }
}

/// Installs the handler on a new connection (replacing sqlx's busy timeout).
pub async fn install(conn: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle();
    // SAFETY: `db` is this connection's open handle, locked for us; the handler is
    // a plain function that calls no SQLite API and needs no context pointer.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(db.as_ptr(), Some(busy_handler), std::ptr::null_mut())
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Protocol(format!(
            "sqlite3_busy_handler failed ({rc})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_from_microseconds_to_a_millisecond_then_stop() {
        assert_eq!(backoff(0), Some(Duration::from_micros(20)));
        assert_eq!(backoff(1), Some(Duration::from_micros(40)));
        assert_eq!(backoff(5), Some(Duration::from_micros(640)));
        assert_eq!(backoff(6), Some(Duration::from_millis(1)));
        assert_eq!(backoff(4_999), Some(Duration::from_millis(1)));
        assert_eq!(backoff(5_000), None);
    }
}
