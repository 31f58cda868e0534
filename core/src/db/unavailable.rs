//! Which database errors mean "the database cannot answer now" rather than "this request is
//! wrong" or "our code is wrong": those become 503 `unavailable` with `Retry-After` at the API,
//! and make the workers wait for the database instead of logging a failure every pass.
//!
//! Read from the errors themselves (sqlx's variants and the server's SQLSTATE), because a
//! string match on messages would break with a driver update.

use std::borrow::Cow;

use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};

/// Why the database could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// It cannot be reached, the pool gave no connection in time, or the server closed the
    /// connection (a restart, a failover): every request would fail alike, so the shared
    /// health state is told (see [`super::health`]).
    Outage,
    /// It is up but this statement ran past the statement timeout, waited out a lock, or found
    /// SQLite's file locked past the busy timeout: this request failed, the next may not.
    Slow,
}

impl Unavailable {
    pub fn as_str(self) -> &'static str {
        match self {
            Unavailable::Outage => "outage",
            Unavailable::Slow => "slow",
        }
    }
}

/// What kind of unavailability `e` is, if it is one.
pub fn classify(e: &DbErr) -> Option<Unavailable> {
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            Some(Unavailable::Outage)
        }
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => classify_sqlx(s),
        // sea-orm's own connection errors (a closed pool, a failed connect).
        DbErr::Conn(RuntimeErr::Internal(_)) => Some(Unavailable::Outage),
        _ => None,
    }
}

fn classify_sqlx(e: &sea_orm::sqlx::Error) -> Option<Unavailable> {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_)
        | E::Tls(_)
        | E::Protocol(_)
        | E::PoolTimedOut
        | E::PoolClosed
        | E::WorkerCrashed
        | E::BeginFailed => Some(Unavailable::Outage),
        E::Database(d) => classify_code(d.code()?),
        _ => None,
    }
}

/// By SQLSTATE (PostgreSQL) or result code (SQLite, as sqlx reports it: the number).
fn classify_code(code: Cow<'_, str>) -> Option<Unavailable> {
    match code.as_ref() {
        // query_canceled (the statement timeout), lock_not_available.
        "57014" | "55P03" => Some(Unavailable::Slow),
        // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections.
        "57P01" | "57P02" | "57P03" | "53300" => Some(Unavailable::Outage),
        // connection_exception and its subclasses.
        c if c.starts_with("08") => Some(Unavailable::Outage),
        // SQLITE_BUSY and its extended codes (BUSY_RECOVERY 261, BUSY_SNAPSHOT 517,
        // BUSY_TIMEOUT 773), SQLITE_LOCKED (6).
        "5" | "6" | "261" | "517" | "773" => Some(Unavailable::Slow),
        _ => None,
    }
}

/// Whether `e` means the database is down (not merely slow for one statement).
pub fn is_outage(e: &DbErr) -> bool {
    classify(e) == Some(Unavailable::Outage)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn sqlx(e: sea_orm::sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn a_pool_that_gives_no_connection_is_an_outage() {
        let e = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert_eq!(classify(&e), Some(Unavailable::Outage));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            classify(&sqlx(sea_orm::sqlx::Error::Io(refused))),
            Some(Unavailable::Outage)
        );
        assert!(is_outage(&sqlx(sea_orm::sqlx::Error::PoolTimedOut)));
    }

    #[test]
    fn sqlstates_say_which_kind() {
        assert_eq!(classify_code("57014".into()), Some(Unavailable::Slow));
        assert_eq!(classify_code("57P01".into()), Some(Unavailable::Outage));
        assert_eq!(classify_code("08006".into()), Some(Unavailable::Outage));
        assert_eq!(classify_code("5".into()), Some(Unavailable::Slow));
        // A unique violation, a syntax error: not the database's availability.
        assert_eq!(classify_code("23505".into()), None);
        assert_eq!(classify_code("42601".into()), None);
        assert_eq!(classify_code("2067".into()), None);
    }

    #[test]
    fn errors_of_the_request_or_the_code_are_not_unavailability() {
        assert_eq!(classify(&DbErr::RecordNotFound("x".into())), None);
        assert_eq!(classify(&DbErr::Type("bad".into())), None);
        assert_eq!(classify(&sqlx(sea_orm::sqlx::Error::RowNotFound)), None);
    }
}
