//! Creating, reading, listing and cancelling broadcasts.

mod cancel;
mod create;
mod model;
mod notice;
mod plan;
mod preview;
mod read;
mod update;

pub use cancel::cancel;
pub(crate) use cancel::cancel_part_of;
pub use create::create;
pub(crate) use create::create_part_of;
pub(crate) use create::{send_now_row, wake};
pub use model::{BroadcastInput, BroadcastPatch, BroadcastView, Channel, Channels, Status};
pub(crate) use notice::{Notice, insert_notice};
pub(crate) use plan::all_channels;
pub use plan::{MAX_CHANNELS, MAX_READ_BY_DAYS, MAX_TIMEZONE_CHARS};
pub use preview::{PREVIEW_OCCURRENCES, PlannedTiming, Preview, preview};
pub use read::{find_managed, get, list};
pub use update::update;
