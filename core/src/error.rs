//! The errors of the domain, without HTTP. `api` maps each variant to a status and a stable code.

use serde::Serialize;

/// One failing field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{message}")]
    Validation {
        message: String,
        details: Vec<FieldError>,
    },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{message}")]
    Upstream { message: String, unavailable: bool },
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("queue error: {0}")]
    Queue(String),
    #[error("{0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let d = FieldError::new(field, message);
        CoreError::Validation {
            message: format!("{}: {}", d.field, d.message),
            details: vec![d],
        }
    }

    /// Whether the database could not answer (down, or too slow for this statement): the
    /// API answers 503 `unavailable`, the workers wait for it.
    pub fn unavailable(&self) -> Option<crate::db::Unavailable> {
        match self {
            CoreError::Database(e) => crate::db::classify(e),
            _ => None,
        }
    }

    /// Whether the database is down (not merely slow for one statement): logged once by the
    /// health state, so the places that log failures one by one leave these out.
    pub fn is_outage(&self) -> bool {
        self.unavailable() == Some(crate::db::Unavailable::Outage)
    }

    /// Whether the error is a unique-constraint violation from the database.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, CoreError::Database(e) if is_unique_violation(e))
    }
}

pub fn is_unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Collects the failing fields of one request so the client hears of all of them at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Adds the violation unless `ok` holds.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Checks a required text: not blank and at most `max` characters.
    pub fn text(&mut self, value: &str, field: &str, max: usize) {
        if value.trim().is_empty() {
            self.add(field, "must not be empty");
        } else if value.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// Checks an optional text: at most `max` characters.
    pub fn opt_text(&mut self, value: Option<&str>, field: &str, max: usize) {
        if let Some(v) = value
            && v.chars().count() > max
        {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> CoreResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let message = self
            .0
            .iter()
            .map(|d| format!("{}: {}", d.field, d.message))
            .collect::<Vec<_>>()
            .join("; ");
        Err(CoreError::Validation {
            message,
            details: self.0,
        })
    }
}
