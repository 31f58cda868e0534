//! The closed sets of words the domain stores in text columns (a meeting's kind, an answer, a
//! status), each a Rust enum that sea-orm reads and writes as its word, so that no service
//! compares strings or falls back on a default when a row holds something unexpected.
//!
//! [`words!`] writes such an enum with its sea-orm and serde impls, `as_str`, `parse`, `ALL`
//! and `Display`, from one list of variants and their words.
//!
//! A small macro of our own rather than `strum` next to sea-orm's `DeriveActiveEnum`: each word
//! would then be written twice (a `#[sea_orm(string_value)]` and a `#[strum(serialize)]`, plus
//! serde's), and this list is the one place that says which words a column may hold.

/// `words! { /// doc  pub enum Name { Variant = "word", ... } }`
#[macro_export]
macro_rules! words {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(sea_orm::sea_query::StringLen::None)")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $word)] #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every word, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The words, for messages: `a, b or c`.
            pub fn choices() -> String {
                let words: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match words.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                    _ => words.join(""),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
