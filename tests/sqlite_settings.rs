//! SQLite connection settings that the throughput of writes depends on.

use sea_orm::{ConnectionTrait, Statement};

async fn pragma(db: &sea_orm::DatabaseConnection, name: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("PRAGMA {name}"),
        ))
        .await
        .unwrap()
        .expect("a pragma row");
    match row.try_get_by_index::<String>(0) {
        Ok(text) => text,
        Err(_) => row.try_get_by_index::<i64>(0).unwrap().to_string(),
    }
}

#[tokio::test]
async fn sqlite_uses_wal_with_normal_sync() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = gatehouse::store::connect(&url).await.unwrap();
    assert_eq!(pragma(&db, "journal_mode").await, "wal");
    // 1 = NORMAL (2 would be FULL: a sync on every commit).
    assert_eq!(pragma(&db, "synchronous").await, "1");
}

/// Writers that meet the write lock wait for it (in short steps) and then succeed:
/// none gets "database is locked", even behind a transaction that holds the lock.
#[tokio::test]
async fn concurrent_writers_wait_for_the_lock_and_all_succeed() {
    use sea_orm::TransactionTrait;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let db = gatehouse::store::connect(&url).await.unwrap();
    db.execute_unprepared("CREATE TABLE t (task INTEGER, n INTEGER)")
        .await
        .unwrap();

    // One transaction takes the write lock and keeps it for a while.
    let holder = db.begin().await.unwrap();
    holder
        .execute_unprepared("INSERT INTO t VALUES (-1, 0)")
        .await
        .unwrap();
    let mut writers = Vec::new();
    for task in 0..16 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..20 {
                db.execute_unprepared(&format!("INSERT INTO t VALUES ({task}, {n})"))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(())
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    holder.commit().await.unwrap();
    for writer in writers {
        writer
            .await
            .unwrap()
            .expect("no writer gave up on the lock");
    }
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM t".to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 1 + 16 * 20);
}
