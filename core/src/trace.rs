//! Ids that tie the log lines of one request or one worker pass together (the `request.id`
//! and `pass.id` fields of their tracing spans; a request's id is also its `X-Request-Id`).

/// A short random id: 16 hex digits.
pub fn new_id() -> String {
    let mut s = uuid::Uuid::new_v4().simple().to_string();
    s.truncate(16);
    s
}
