//! Cursor paging: `?limit=` (default 20, clamped to 1..=100) and an opaque `?cursor=`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{CoreError, CoreResult};

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;
/// Longest cursor accepted (ours are about 12 characters).
pub const MAX_CURSOR_CHARS: usize = 64;

/// A validated page request: at most `limit` rows after the row with id `after`
/// (in the list's own order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<i64>,
}

impl PageRequest {
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> CoreResult<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) if c.len() > MAX_CURSOR_CHARS => {
                return Err(CoreError::invalid(
                    "cursor",
                    "is not a cursor returned by a previous page",
                ));
            }
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                CoreError::invalid("cursor", "is not a cursor returned by a previous page")
            })?),
        };
        Ok(Self { limit, after })
    }

    pub fn first(limit: u64) -> Self {
        Self { limit, after: None }
    }
}

/// A page of results and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says that more exist.
    pub fn from_rows(mut rows: Vec<T>, req: PageRequest, id_of: impl Fn(&T) -> i64) -> Self {
        let more = rows.len() as u64 > req.limit;
        rows.truncate(req.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

pub fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{id}"))
}

fn decode_cursor(c: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(c).ok()?;
    let s = std::str::from_utf8(&bytes).ok()?;
    s.strip_prefix("c1:")?.parse().ok()
}

/// Parses an id that clients hold as an opaque string.
pub fn parse_id(field: &str, raw: &str) -> CoreResult<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| CoreError::invalid(field, "is not a valid id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped_and_defaults() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
        assert_eq!(PageRequest::parse(Some(0), None).unwrap().limit, 1);
        assert_eq!(PageRequest::parse(Some(5000), None).unwrap().limit, 100);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let c = encode_cursor(42);
        assert_eq!(PageRequest::parse(None, Some(&c)).unwrap().after, Some(42));
        assert!(PageRequest::parse(None, Some("not-a-cursor!")).is_err());
        assert!(PageRequest::parse(None, Some(&URL_SAFE_NO_PAD.encode("c1:x"))).is_err());
    }

    #[test]
    fn a_full_page_has_a_next_cursor_and_the_last_has_none() {
        let req = PageRequest::first(2);
        let p = Page::from_rows(vec![5, 4, 3], req, |v| *v);
        assert_eq!(p.items, vec![5, 4]);
        assert_eq!(p.next_cursor, Some(encode_cursor(4)));
        let p = Page::from_rows(vec![5, 4], req, |v| *v);
        assert_eq!(p.next_cursor, None);
    }
}
