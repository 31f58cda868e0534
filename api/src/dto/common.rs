use fingertip_core::paging::Page;
use fingertip_core::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An id on the wire. Ours are positive integers that clients hold as opaque strings: an `Id`
/// is always written as a string (`"42"`). In the document a response's id field is a string
/// (`#[schema(value_type = String)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(pub i64);

impl Id {
    /// The one reading of an id's text: a positive integer, nothing around it. A path segment
    /// is read as it is (anything else names nothing: 404); a body or query value is trimmed
    /// first (anything else is a 400 naming the field), see [`IdIn::parse`] and [`query_id`].
    pub fn parse(text: &str) -> Option<Id> {
        Self::valid(text.parse().ok()?)
    }

    fn valid(n: i64) -> Option<Id> {
        (n > 0).then_some(Id(n))
    }
}

impl From<i64> for Id {
    fn from(n: i64) -> Self {
        Id(n)
    }
}

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(itoa::Buffer::new().format(self.0))
    }
}

// Checked by `IdIn::parse`, so that a bad one is a 400 naming its field; written back as a
// string. (The doc comment below is the schema's description in the OpenAPI document.)
/// An id as a client sends it: a string (preferred) or a number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IdIn {
    Str(String),
    Num(i64),
}

impl IdIn {
    pub fn parse(&self, field: &str) -> CoreResult<i64> {
        match self {
            IdIn::Str(s) => query_id(field, s),
            IdIn::Num(n) => Id::valid(*n).map(|id| id.0).ok_or_else(|| not_an_id(field)),
        }
    }
}

impl From<i64> for IdIn {
    fn from(n: i64) -> Self {
        IdIn::Num(n)
    }
}

impl Serialize for IdIn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IdIn::Str(v) => s.serialize_str(v),
            IdIn::Num(n) => Id(*n).serialize(s),
        }
    }
}

pub fn parse_ids(field: &str, ids: &[IdIn]) -> CoreResult<Vec<i64>> {
    ids.iter().map(|i| i.parse(field)).collect()
}

/// An id given as a query parameter (or a body's string): trimmed, then [`Id::parse`]; a 400
/// naming `field` when it is not one.
pub fn query_id(field: &str, raw: &str) -> CoreResult<i64> {
    Id::parse(raw.trim())
        .map(|id| id.0)
        .ok_or_else(|| not_an_id(field))
}

/// An optional id query parameter (`?unit_id=`): absent or blank is none; anything else must be
/// an id ([`query_id`]).
pub fn optional_query_id(field: &str, raw: Option<&str>) -> CoreResult<Option<i64>> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| query_id(field, s))
        .transpose()
}

fn not_an_id(field: &str) -> CoreError {
    CoreError::invalid(field, "is not a valid id")
}

/// `?limit=&cursor=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// Page size, default 20, at most 100.
    pub limit: Option<u64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn request(&self) -> CoreResult<fingertip_core::paging::PageRequest> {
        fingertip_core::paging::PageRequest::parse(self.limit, self.cursor.as_deref())
    }
}

/// A page of items; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Paged<T> {
    pub fn from_page<U>(p: Page<U>, f: impl FnMut(U) -> T) -> Self {
        Self {
            items: p.items.into_iter().map(f).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// Distinguishes an absent field (leave alone) from `null` (clear it) in PATCH bodies.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn ids_go_out_as_strings_and_come_in_as_strings_or_numbers() {
        assert_eq!(serde_json::to_value(Id(42)).unwrap(), json!("42"));
        assert_eq!(
            serde_json::to_value(vec![IdIn::from(7), IdIn::Str("8".into())]).unwrap(),
            json!(["7", "8"])
        );
        for (given, want) in [
            (json!("42"), Some(42)),
            (json!(" 42 "), Some(42)),
            (json!(42), Some(42)),
            (json!("0"), None),
            (json!(-3), None),
            (json!("4x"), None),
            (json!(""), None),
        ] {
            let id: IdIn = serde_json::from_value(given.clone()).unwrap();
            assert_eq!(id.parse("post_id").ok(), want, "{given}");
        }
        let err = IdIn::Str("x".into()).parse("post_id").unwrap_err();
        assert!(matches!(err, CoreError::Validation { .. }), "{err:?}");
    }

    #[test]
    fn a_path_id_is_read_as_it_is_and_a_query_id_trimmed() {
        assert_eq!(Id::parse("17"), Some(Id(17)));
        for bad in [" 17", "17 ", "0", "-1", "1.5", "", "abc"] {
            assert_eq!(Id::parse(bad), None, "{bad:?}");
        }
        assert_eq!(query_id("unit_id", " 17 ").unwrap(), 17);
        assert!(query_id("unit_id", "0").is_err());
    }
}
