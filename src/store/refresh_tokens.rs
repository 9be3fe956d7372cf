//! Refresh-token chains: rotation on every use, atomically, on both databases.

use std::sync::OnceLock;

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, Set, SqlErr, Statement, Value,
};

use super::entities::grants;
use super::entities::refresh_tokens::{self, Column, Entity};
use super::StoreError;
use crate::secrets::{hash_token, open_with_token, random_token, seal_with_token};

pub use refresh_tokens::Model as RefreshToken;

pub struct NewRefresh<'a> {
    pub grant_id: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub expires_at: i64,
}

async fn insert(
    db: &impl ConnectionTrait,
    token: &str,
    new: &NewRefresh<'_>,
    parent: Option<(&str, &str)>,
    now: i64,
) -> Result<(), StoreError> {
    refresh_tokens::ActiveModel {
        token_hash: Set(hash_token(token)),
        grant_id: Set(new.grant_id.to_string()),
        client_id: Set(new.client_id.to_string()),
        scope: Set(new.scope.to_string()),
        parent_hash: Set(parent.map(|(hash, _)| hash.to_string())),
        issued_at: Set(now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
        successor_hash: Set(None),
        successor_sealed: Set(None),
        sealed_by_parent: Set(parent.map(|(_, presented)| seal_with_token(presented, token))),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Starts a chain; returns the token in the clear (the only time it exists so).
pub async fn issue(
    db: &impl ConnectionTrait,
    new: NewRefresh<'_>,
    now: i64,
) -> Result<String, StoreError> {
    let token = random_token();
    insert(db, &token, &new, None, now).await?;
    Ok(token)
}

pub async fn find(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<RefreshToken>, StoreError> {
    Ok(Entity::find_by_id(hash_token(token)).one(db).await?)
}

/// A token and the successor it was rotated to, if it was.
pub struct Link {
    pub token: RefreshToken,
    pub successor: Option<RefreshToken>,
}

impl Link {
    /// When the token was rotated (None: it is unused).
    pub fn used_at(&self) -> Option<i64> {
        self.successor
            .as_ref()
            .map(|s| s.issued_at)
            .or(self.token.used_at)
    }

    /// The successor in the clear, recoverable only with the token itself.
    pub fn successor_token(&self, presented: &str) -> Option<String> {
        let sealed = self
            .successor
            .as_ref()
            .and_then(|s| s.sealed_by_parent.as_deref())
            .or(self.token.successor_sealed.as_deref())?;
        open_with_token(presented, sealed)
    }
}

/// A token with its successor, in one statement (the row that is the token, and
/// the row that names it as parent).
pub async fn find_link(db: &impl ConnectionTrait, token: &str) -> Result<Option<Link>, StoreError> {
    let hash = hash_token(token);
    let rows = Entity::find()
        .filter(
            Condition::any()
                .add(Column::TokenHash.eq(hash.as_str()))
                .add(Column::ParentHash.eq(hash.as_str())),
        )
        .all(db)
        .await?;
    let (mut token, mut successor) = (None, None);
    for row in rows {
        if row.token_hash == hash {
            token = Some(row);
        } else {
            successor = Some(row);
        }
    }
    Ok(token.map(|token| Link { token, successor }))
}

/// Rotates `presented` (whose row is `current`) by inserting its successor: one
/// statement, so it is atomic on its own. The unique index on parent_hash lets
/// exactly one of any number of concurrent callers win; the others get `None`.
pub async fn rotate(
    db: &impl ConnectionTrait,
    current: &RefreshToken,
    presented: &str,
    now: i64,
    expires_at: i64,
) -> Result<Option<String>, StoreError> {
    let successor = random_token();
    let new = NewRefresh {
        grant_id: &current.grant_id,
        client_id: &current.client_id,
        scope: &current.scope,
        expires_at,
    };
    let parent = (current.token_hash.as_str(), presented);
    match insert(db, &successor, &new, Some(parent), now).await {
        Ok(()) => Ok(Some(successor)),
        Err(StoreError::Db(err))
            if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// Rotates `presented` only if everything that allows it holds, checked and done in
/// one statement (INSERT … SELECT … RETURNING): the token is `client_id`'s, unused
/// and unexpired; its grant is neither revoked nor expired; the grant's user is
/// enabled; and the grant's browser session is live unless the token carries
/// offline_access (OIDC Core §11). Returns the successor's row and the successor.
/// None means one of these failed, or a concurrent request rotated first: the
/// caller then reads the token to learn which.
pub async fn rotate_if_usable(
    db: &impl ConnectionTrait,
    presented: &str,
    client_id: &str,
    now: i64,
    idle_ttl: i64,
) -> Result<Option<(RefreshToken, String)>, StoreError> {
    let successor = random_token();
    let input = Rotation {
        successor_hash: hash_token(&successor),
        sealed: seal_with_token(presented, &successor),
        presented_hash: hash_token(presented),
        client_id: client_id.to_string(),
        now,
        idle_expiry: now + idle_ttl,
    };
    let statement = RotationTemplate::get(db.get_database_backend())?.bind(input);
    match db.query_one_raw(statement).await {
        Ok(Some(row)) => Ok(Some((
            RefreshToken::from_query_result(&row, "")?,
            successor,
        ))),
        Ok(None) => Ok(None),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The values of one rotation statement.
#[derive(Clone)]
struct Rotation {
    successor_hash: String,
    sealed: String,
    presented_hash: String,
    client_id: String,
    now: i64,
    idle_expiry: i64,
}

/// The rotation statement as `INSERT … SELECT … RETURNING`.
fn build_rotation(backend: DbBackend, r: Rotation) -> Result<Statement, DbErr> {
    let token = |c: Column| Expr::col((Entity, c));
    let grant = |c: grants::Column| Expr::col((grants::Entity, c));
    // `scope` is space-separated; '_' is a LIKE wildcard, hence the escape.
    let offline = [
        "offline\\_access",
        "offline\\_access %",
        "% offline\\_access",
        "% offline\\_access %",
    ]
    .into_iter()
    .fold(Condition::any(), |any, pattern| {
        any.add(token(Column::Scope).like(LikeExpr::new(pattern).escape('\\')))
    });
    let select = Query::select()
        .expr(Expr::val(r.successor_hash))
        .expr(token(Column::GrantId))
        .expr(token(Column::ClientId))
        .expr(token(Column::Scope))
        .expr(token(Column::TokenHash))
        .expr(Expr::val(r.now))
        // The successor lives at most as long as its grant.
        .expr(
            Expr::case(
                grant(grants::Column::ExpiresAt).lt(r.idle_expiry),
                grant(grants::Column::ExpiresAt),
            )
            .finally(Expr::val(r.idle_expiry)),
        )
        .expr(Expr::val(r.sealed))
        .from(Entity)
        .inner_join(
            grants::Entity,
            grant(grants::Column::Id).equals((Entity, Column::GrantId)),
        )
        .cond_where(
            Condition::all()
                .add(token(Column::TokenHash).eq(r.presented_hash))
                .add(token(Column::ClientId).eq(r.client_id))
                .add(token(Column::ExpiresAt).gt(r.now))
                .add(token(Column::UsedAt).is_null())
                .add(grant(grants::Column::RevokedAt).is_null())
                .add(grant(grants::Column::ExpiresAt).gt(r.now))
                .add(super::grants::user_is_enabled())
                .add(
                    Condition::any()
                        .add(super::grants::session_is_live(r.now))
                        .add(offline),
                ),
        )
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(Entity)
        .columns([
            Column::TokenHash,
            Column::GrantId,
            Column::ClientId,
            Column::Scope,
            Column::ParentHash,
            Column::IssuedAt,
            Column::ExpiresAt,
            Column::SealedByParent,
        ])
        .returning_all();
    insert
        .select_from(select)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok(backend.build(&insert))
}

/// Where a value of the built rotation statement comes from.
#[derive(Clone)]
enum Slot {
    Fixed(Value),
    SuccessorHash,
    Sealed,
    PresentedHash,
    ClientId,
    Now,
    IdleExpiry,
}

/// The rotation statement's SQL, built once per backend: building it with
/// sea-query on every refresh cost about a tenth of the request's CPU. Each
/// refresh only binds its values into the slots.
struct RotationTemplate {
    backend: DbBackend,
    sql: String,
    slots: Vec<Slot>,
}

impl RotationTemplate {
    fn get(backend: DbBackend) -> Result<&'static RotationTemplate, DbErr> {
        type Cell = OnceLock<Result<RotationTemplate, String>>;
        static SQLITE: Cell = OnceLock::new();
        static POSTGRES: Cell = OnceLock::new();
        static MYSQL: Cell = OnceLock::new();
        let cell = match backend {
            DbBackend::Sqlite => &SQLITE,
            DbBackend::Postgres => &POSTGRES,
            _ => &MYSQL,
        };
        cell.get_or_init(|| RotationTemplate::new(backend).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| DbErr::Custom(e.clone()))
    }

    /// Builds the statement with marker values and records where each one went.
    fn new(backend: DbBackend) -> Result<Self, DbErr> {
        let markers = Rotation {
            successor_hash: "\u{0}successor_hash".into(),
            sealed: "\u{0}sealed".into(),
            presented_hash: "\u{0}presented_hash".into(),
            client_id: "\u{0}client_id".into(),
            now: i64::MIN + 1,
            idle_expiry: i64::MIN + 2,
        };
        let built = build_rotation(backend, markers.clone())?;
        let values = built.values.map(|v| v.0).unwrap_or_default();
        let slots = values
            .into_iter()
            .map(|value| match &value {
                Value::String(Some(s)) if *s == markers.successor_hash => Slot::SuccessorHash,
                Value::String(Some(s)) if *s == markers.sealed => Slot::Sealed,
                Value::String(Some(s)) if *s == markers.presented_hash => Slot::PresentedHash,
                Value::String(Some(s)) if *s == markers.client_id => Slot::ClientId,
                Value::BigInt(Some(n)) if *n == markers.now => Slot::Now,
                Value::BigInt(Some(n)) if *n == markers.idle_expiry => Slot::IdleExpiry,
                _ => Slot::Fixed(value),
            })
            .collect();
        Ok(RotationTemplate {
            backend,
            sql: built.sql,
            slots,
        })
    }

    fn bind(&self, r: Rotation) -> Statement {
        let values = self.slots.iter().map(|slot| match slot {
            Slot::Fixed(value) => value.clone(),
            Slot::SuccessorHash => r.successor_hash.clone().into(),
            Slot::Sealed => r.sealed.clone().into(),
            Slot::PresentedHash => r.presented_hash.clone().into(),
            Slot::ClientId => r.client_id.clone().into(),
            Slot::Now => r.now.into(),
            Slot::IdleExpiry => r.idle_expiry.into(),
        });
        Statement::from_sql_and_values(self.backend, self.sql.clone(), values)
    }
}

/// Drops tokens whose lifetime ended long ago (the grant records any revocation).
pub async fn purge_expired(db: &impl ConnectionTrait, before: i64) -> Result<u64, StoreError> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(before))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template binds exactly what building the statement afresh would.
    #[test]
    fn rotation_template_binds_what_the_builder_builds() {
        let input = Rotation {
            successor_hash: "successor-hash".into(),
            sealed: "sealed".into(),
            presented_hash: "presented-hash".into(),
            client_id: "client".into(),
            now: 1_700_000_000,
            idle_expiry: 1_700_086_400,
        };
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let template = RotationTemplate::get(backend).expect("template");
            let fresh = build_rotation(backend, input.clone()).expect("statement");
            let bound = template.bind(input.clone());
            assert_eq!(bound.sql, fresh.sql);
            assert_eq!(bound.values, fresh.values);
            // Every per-request value has its slot (none was frozen into the SQL).
            let slots = |f: fn(&Slot) -> bool| template.slots.iter().filter(|s| f(s)).count();
            assert_eq!(slots(|s| matches!(s, Slot::SuccessorHash)), 1);
            assert_eq!(slots(|s| matches!(s, Slot::Sealed)), 1);
            assert_eq!(slots(|s| matches!(s, Slot::PresentedHash)), 1);
            assert_eq!(slots(|s| matches!(s, Slot::ClientId)), 1);
            assert!(slots(|s| matches!(s, Slot::Now)) >= 3);
            assert_eq!(slots(|s| matches!(s, Slot::IdleExpiry)), 2);
        }
    }
}
