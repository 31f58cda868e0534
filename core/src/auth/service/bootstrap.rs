//! The admin from the configuration, created or reset at start-up.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::roles::Role;
use crate::entities::members;
use crate::error::{CoreError, CoreResult};

/// Creates or resets the configured admin at start-up. Several processes starting at once
/// may race here: the loser of the insert finds the winner's row and resets it instead.
pub async fn ensure_admin(core: &Core, username: &str, pw: &str) -> CoreResult<i64> {
    for _ in 0..3 {
        let now = core.now();
        let existing = members::Entity::find()
            .filter(members::Column::Username.eq(username))
            .one(&core.db)
            .await?;
        if let Some(m) = existing {
            let id = m.id;
            let unchanged = m.active
                && m.role == Role::Admin
                && core
                    .passwords
                    .verify(pw.to_string(), m.password_hash.clone())
                    .await?;
            if unchanged {
                tracing::info!(member.id = id, "admin account ready");
                return Ok(id);
            }
            let hash = core.passwords.hash(pw.to_string()).await?;
            let mut am: members::ActiveModel = m.into();
            am.password_hash = Set(Some(hash));
            am.role = Set(Role::Admin);
            am.active = Set(true);
            am.updated_at = Set(now);
            let txn = crate::db::begin_write(&core.db).await?;
            am.update(&txn).await?;
            audit::append(
                &txn,
                now,
                &Who::system(),
                Event::new("member.update")
                    .target("member", id)
                    .summary(json!({
                        "via": "bootstrap",
                        "username": username,
                        "password": "set from FINGERTIP_ADMIN_PASSWORD",
                        "role": "admin",
                        "active": true,
                    })),
            )
            .await?;
            txn.commit().await?;
            tracing::info!(member.id = id, "admin account reset from the configuration");
            return Ok(id);
        }
        let hash = core.passwords.hash(pw.to_string()).await?;
        let txn = crate::db::begin_write(&core.db).await?;
        let inserted = members::ActiveModel {
            name: Set(username.to_string()),
            unit_id: Set(None),
            role: Set(Role::Admin),
            username: Set(Some(username.to_string())),
            password_hash: Set(Some(hash)),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(m) => {
                audit::append(
                    &txn,
                    now,
                    &Who::system(),
                    Event::new("member.create").target("member", m.id).summary(
                        json!({"via": "bootstrap", "username": username, "role": "admin"}),
                    ),
                )
                .await?;
                txn.commit().await?;
                tracing::info!(member.id = m.id, "admin account created");
                return Ok(m.id);
            }
            Err(e) if crate::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CoreError::Conflict(
        "could not create the admin account".into(),
    ))
}
