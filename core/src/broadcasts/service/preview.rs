//! What a broadcast would do if it were scheduled now, without scheduling it: the composer's
//! audience size and the next occurrences of its rule, checked by the same rules as
//! [`super::create`] (channels, zone, time or rule, read-by deadline, audience within the
//! actor's scope). The audience and the schedule are judged apart, so a composer shows the
//! audience's size while the time is still wrong. Reads only; nothing is written or audited.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::model::{BroadcastInput, Channel};
use super::plan::{check_read_by, plan_timing, resolve_channels, resolve_tz};
use crate::Core;
use crate::access;
use crate::auth::Actor;
use crate::broadcasts::schedule::Rule;
use crate::error::{CoreError, CoreResult, FieldError, Violations};
use crate::org::UnitTree;

/// How many occurrences of a rule a preview lists.
pub const PREVIEW_OCCURRENCES: u16 = 5;

#[derive(Debug, Clone)]
pub struct Preview {
    /// Active members the audience selects, cut to the actor's scope; `None` when the audience
    /// has a problem.
    pub audience_size: Option<u64>,
    /// When it would go out; `None` when the schedule or the channels have a problem.
    pub timing: Option<PlannedTiming>,
    /// What [`super::create`] would refuse, field by field.
    pub problems: Vec<FieldError>,
}

#[derive(Debug, Clone)]
pub struct PlannedTiming {
    pub channels: Vec<Channel>,
    pub timezone: Tz,
    /// The first send: now (within the minute) for "send now".
    pub first: DateTime<Utc>,
    /// The normalised rule of a recurring broadcast.
    pub recurrence: Option<String>,
    /// The first [`PREVIEW_OCCURRENCES`] occurrences of the rule; just `first` for a one-off.
    pub upcoming: Vec<DateTime<Utc>>,
}

/// The problems a validation error carries; other errors are passed on.
fn problems_of(r: CoreResult<()>) -> CoreResult<Vec<FieldError>> {
    match r {
        Ok(()) => Ok(Vec::new()),
        Err(CoreError::Validation { details, .. }) => Ok(details),
        Err(e) => Err(e),
    }
}

/// Checks `input` as [`super::create`] would (its `post_id` is not looked at) and says whom it
/// would reach and when. Errs only on access and storage, never on the input.
pub async fn preview(core: &Core, actor: &Actor, input: &BroadcastInput) -> CoreResult<Preview> {
    access::require_manager(actor)?;
    let now = core.now();
    let mut v = Violations::new();
    let channels = resolve_channels(core, input.channels.as_deref(), &mut v);
    let tz = resolve_tz(core, input.timezone.as_deref(), &mut v);
    let timing = plan_timing(
        now,
        tz,
        input.send_at,
        None,
        input.recurrence.as_deref(),
        None,
        &mut v,
    );
    check_read_by(input.read_by, timing.as_ref(), &mut v);
    crate::broadcasts::ladder::check_input(input.ladder.as_ref(), input.read_by, &mut v);
    let mut problems = problems_of(v.finish())?;
    let timing = timing
        .filter(|_| problems.is_empty())
        .map(|t| PlannedTiming {
            upcoming: match &t.recurrence {
                Some(text) => Rule::new(text, tz, t.send_at)
                    .map(|r| r.upcoming(t.next_run_at, PREVIEW_OCCURRENCES))
                    .unwrap_or_default(),
                None => vec![t.next_run_at],
            },
            channels,
            timezone: tz,
            first: t.next_run_at,
            recurrence: t.recurrence,
        });

    let tree = UnitTree::load(&core.db).await?;
    let mut audience = input.audience.clone();
    let audience_problems = problems_of(audience.validate(core, &tree).await)?;
    let audience_size = if audience_problems.is_empty() {
        audience.restrict_to(&tree.scope_of(actor));
        let n = audience.count(core, &tree).await?;
        if n == 0 && timing.as_ref().is_some_and(|t| t.first <= now) {
            problems.push(FieldError::new("audience", "selects no active member"));
        }
        Some(n)
    } else {
        problems.extend(audience_problems);
        None
    };
    Ok(Preview {
        audience_size,
        timing,
        problems,
    })
}
