use fingertip_core::paging::Page;
use fingertip_core::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An id as a client sends it: a string (preferred) or a number.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum IdIn {
    Str(String),
    Num(i64),
}

impl IdIn {
    pub fn parse(&self, field: &str) -> CoreResult<i64> {
        let v = match self {
            IdIn::Str(s) => s.trim().parse::<i64>().ok(),
            IdIn::Num(n) => Some(*n),
        };
        v.filter(|v| *v > 0)
            .ok_or_else(|| CoreError::invalid(field, "is not a valid id"))
    }
}

pub fn parse_ids(field: &str, ids: &[IdIn]) -> CoreResult<Vec<i64>> {
    ids.iter().map(|i| i.parse(field)).collect()
}

pub fn id_str(id: i64) -> String {
    id.to_string()
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
