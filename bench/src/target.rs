//! Where a benchmark runs: a fresh PostgreSQL schema, a given SQLite URL or a temporary SQLite
//! file, and cleaning it up afterwards.

use sea_orm::ConnectionTrait;

pub struct Target {
    pub url: String,
    pub schema: Option<String>,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Target {
    pub fn new(url: Option<String>, what: &str) -> Self {
        match url {
            Some(url) if url.starts_with("postgres") => Self {
                url,
                schema: Some(format!("bench_{what}_{}", std::process::id())),
                sqlite_file: None,
            },
            Some(url) => Self {
                url,
                schema: None,
                sqlite_file: None,
            },
            None => {
                let path = std::env::temp_dir()
                    .join(format!("fingertip-bench-{what}-{}.db", std::process::id()));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    schema: None,
                    sqlite_file: Some(path),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

pub async fn cleanup(target: &Target) {
    if let Some(schema) = &target.schema
        && let Ok(db) = sea_orm::Database::connect(&target.url).await
    {
        let _ = db
            .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await;
    }
    if let Some(p) = &target.sqlite_file {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    }
}
