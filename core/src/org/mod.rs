//! The organisation: a tree of units and the members in it.

pub mod import;
mod import_pg;
pub mod members;
pub mod secretaries;
pub mod tree;
pub mod units;

pub use members::{MemberFilter, MemberInput, MemberPatch, MemberView};
pub use tree::UnitTree;
pub use units::UnitNode;
