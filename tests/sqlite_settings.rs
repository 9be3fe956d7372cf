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
