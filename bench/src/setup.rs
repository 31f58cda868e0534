//! What every benchmark part starts with: the app on its target with the given settings,
//! migrated; a session and its access token, as a login would make them; the real API server on
//! a free port of this process.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use chrono::Utc;
use fingertip::{App, AppOptions};
use fingertip_core::Core;
use fingertip_core::auth::Role;
use fingertip_core::clock::SystemClock;
use fingertip_core::db::DbOptions;
use fingertip_core::entities::sessions;
use fingertip_core::settings::Settings;
use sea_orm::{ActiveModelTrait, Set};

use crate::target::Target;

/// The app on `target` (a pool of `max_connections`, the default when `None`), with `extra`
/// settings beside the database and a random JWT secret, migrated.
pub async fn app(
    target: &Target,
    max_connections: Option<u32>,
    extra: &[(&'static str, String)],
) -> anyhow::Result<App> {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("FINGERTIP_DATABASE_URL", target.url.clone()),
        (
            "FINGERTIP_JWT_SECRET",
            fingertip_core::auth::secrets::random_token(32),
        ),
    ]);
    vars.extend(extra.iter().cloned());
    let settings = Settings::from_lookup(|k| vars.get(k).cloned())
        .map_err(|e| anyhow::anyhow!(e.join("; ")))?;
    let app = App::connect(
        settings,
        AppOptions {
            clock: Arc::new(SystemClock),
            db: DbOptions {
                pg_schema: target.schema.clone(),
                max_connections,
                ..DbOptions::default()
            },
            instance: "bench".into(),
            ..AppOptions::default()
        },
    )
    .await?;
    app.migrate().await?;
    Ok(app)
}

/// A new session of `member_id` and its access token.
pub async fn token(core: &Core, member_id: i64, role: Role) -> anyhow::Result<String> {
    let now = Utc::now();
    let sid = fingertip_core::auth::secrets::random_token(16);
    sessions::ActiveModel {
        id: Set(sid.clone()),
        member_id: Set(member_id),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(&core.db)
    .await?;
    Ok(core
        .tokens
        .access_token(member_id, role.as_str(), &sid, now)?)
}

/// The real API server for `core` on a free port, running until its handle stops it.
pub fn serve(core: Arc<Core>) -> anyhow::Result<(SocketAddr, actix_web::dev::ServerHandle)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = fingertip_api::build(core, listener, fingertip_api::ServerOptions::default())?;
    let handle = server.handle();
    tokio::spawn(server);
    Ok((addr, handle))
}
