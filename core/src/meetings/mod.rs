//! Meetings (三会一课): notice, answers, reminders, check-in, record, minutes, make-up study.
//!
//! A meeting reuses the broadcast machinery for everything it sends: the notice, a change or
//! cancellation, the reminders before the start and the make-up study task are each a post (of
//! kind `meeting`, or the linked lesson) and a broadcast whose audience is cut to the meeting's
//! invitees by [`MeetingSelector`], evaluated when the fan-out runs. So they reach inboxes
//! exactly once, go out on the push channels, and, when scheduled (reminders), survive restarts
//! like any other occurrence. `meeting_broadcasts` remembers which broadcast was sent for what.

mod afterwards;
mod answers;
mod attendance;
pub mod checkin;
mod invitees;
mod model;
mod notices;
pub mod record;
pub mod series;
mod service;
mod text;
mod validate;
mod words;

pub use afterwards::{make_up, set_minutes};
pub use answers::{answer, get_mine};
pub use attendance::{check_in, checkin_code, record_attendance};
pub use model::{MeetingInput, MeetingPatch, MeetingView, MyMeeting};
pub use notices::broadcasts_of;
pub(crate) use notices::complete_occurrence;
pub use service::{cancel, create, create_in_series, find_managed, scope_allows, update};
pub use text::{details_md, kind_label, where_text};
pub(crate) use validate::prepare;
pub use words::{
    Answer, Attendance, CheckInMethod, MeetingKind, MeetingStatus, Purpose, ReminderOffsets,
    SeriesStatus,
};

pub const DEFAULT_REMINDER_OFFSETS: [i32; 2] = [1440, 60];
pub const MAX_REMINDERS: usize = 5;
/// Check-in opens this long before the start.
pub const CHECK_IN_OPENS_MINUTES: i64 = 30;
/// A check-in later than this after the start is `late`.
pub const LATE_AFTER_MINUTES: i64 = 10;
/// Wrong check-in codes a member may enter for one meeting: 10 guesses of a 6-digit code
/// (two windows valid) succeed with odds of 2 in 100,000.
pub const MAX_CHECKIN_FAILURES: i32 = 10;
pub const MAX_AGENDA_CHARS: usize = 20_000;
pub const MAX_MINUTES_CHARS: usize = 100_000;
