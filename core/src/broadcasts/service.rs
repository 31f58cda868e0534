//! Creating, reading, listing and cancelling broadcasts.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};

use crate::Core;
use crate::audience::Audience;
use crate::auth::Actor;
use crate::entities::{broadcasts, posts};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;
use crate::paging::{Page, PageRequest};
use crate::ports::Job;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Scheduled,
    Sending,
    Sent,
    Canceled,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Canceled => "canceled",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => Status::Scheduled,
            "sending" => Status::Sending,
            "sent" => Status::Sent,
            "canceled" => Status::Canceled,
            "failed" => Status::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Inbox,
    Wechat,
    Wecom,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "inbox" => Channel::Inbox,
            "wechat" => Channel::Wechat,
            "wecom" => Channel::Wecom,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct BroadcastInput {
    pub post_id: i64,
    pub audience: Audience,
    /// Names as the client sent them; `None` means every configured channel.
    pub channels: Option<Vec<String>>,
    pub send_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub timezone: Option<String>,
    pub read_by: Option<DateTime<Utc>>,
    pub urgent: bool,
}

#[derive(Debug, Clone)]
pub struct BroadcastView {
    pub id: i64,
    pub post_id: i64,
    pub title: String,
    pub status: Status,
    pub audience: Audience,
    pub channels: Vec<Channel>,
    pub send_at: DateTime<Utc>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub timezone: String,
    pub read_by: Option<DateTime<Utc>>,
    pub urgent: bool,
    pub audience_size: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl BroadcastView {
    pub fn from_row(b: broadcasts::Model, title: String) -> Self {
        let status = Status::parse(&b.status).unwrap_or(Status::Failed);
        Self {
            id: b.id,
            post_id: b.post_id,
            title,
            status,
            audience: serde_json::from_value(b.audience).unwrap_or_default(),
            channels: serde_json::from_value(b.channels).unwrap_or_else(|_| vec![Channel::Inbox]),
            send_at: b.send_at,
            next_run_at: matches!(status, Status::Scheduled | Status::Sending).then_some(b.send_at),
            timezone: b.timezone,
            read_by: b.read_by,
            urgent: b.urgent,
            audience_size: b.audience_size,
            created_at: b.created_at,
            sent_at: b.sent_at,
        }
    }
}

/// How far in the past a `send_at` may be before it is refused (a clock a little behind on
/// the admin's phone should not fail the request).
const PAST_TOLERANCE_SECS: i64 = 60;

fn resolve_channels(core: &Core, requested: Option<&[String]>, v: &mut Violations) -> Vec<Channel> {
    let wechat_on = core.wechat.is_some();
    let wecom_on = core.settings.wecom.is_some();
    let mut out = vec![Channel::Inbox];
    match requested {
        None => {
            if wechat_on {
                out.push(Channel::Wechat);
            }
            if wecom_on {
                out.push(Channel::Wecom);
            }
        }
        Some(list) => {
            for name in list {
                match Channel::parse(name.trim()) {
                    None => v.add(
                        "channels",
                        format!("{name:?} is not a channel (inbox, wechat, wecom)"),
                    ),
                    Some(Channel::Wechat) if !wechat_on => v.add(
                        "channels",
                        "the wechat channel is not configured on this server",
                    ),
                    Some(Channel::Wecom) if !wecom_on => v.add(
                        "channels",
                        "the wecom channel is not configured on this server",
                    ),
                    Some(c) if !out.contains(&c) => out.push(c),
                    Some(_) => {}
                }
            }
        }
    }
    out
}

pub async fn create(
    core: &Core,
    actor: &Actor,
    mut input: BroadcastInput,
) -> CoreResult<BroadcastView> {
    let now = core.now();
    let mut v = Violations::new();
    let channels = resolve_channels(core, input.channels.as_deref(), &mut v);
    let tz: Tz = match input
        .timezone
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => core.settings.timezone,
        Some(t) => t.parse().unwrap_or_else(|_| {
            v.add("timezone", "is not an IANA time zone such as Asia/Shanghai");
            core.settings.timezone
        }),
    };
    if input
        .recurrence
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty())
    {
        v.add(
            "recurrence",
            "recurring broadcasts are not available on this server yet",
        );
    }
    if let Some(at) = input.send_at {
        v.check(
            at >= now - Duration::seconds(PAST_TOLERANCE_SECS),
            "send_at",
            "is in the past",
        );
        v.check(
            at <= now + Duration::days(366 * 2),
            "send_at",
            "is more than two years ahead",
        );
    }
    let send_at = input.send_at.filter(|at| *at > now).unwrap_or(now);
    if let Some(rb) = input.read_by {
        v.check(rb > send_at, "read_by", "must be after the send time");
    }
    v.finish()?;

    let post = posts::Entity::find_by_id(input.post_id)
        .one(&core.db)
        .await?;
    let Some(post) = post else {
        return Err(CoreError::invalid("post_id", "does not exist"));
    };
    let tree = UnitTree::load(&core.db).await?;
    input.audience.validate(core, &tree).await?;
    input.audience.restrict_to(&tree.scope_of(actor));
    let size = input.audience.count(core, &tree).await?;
    if size == 0 && send_at <= now {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    let status = if send_at > now {
        Status::Scheduled
    } else {
        Status::Sending
    };
    let row = broadcasts::ActiveModel {
        post_id: Set(post.id),
        audience: Set(serde_json::to_value(&input.audience)
            .map_err(|e| CoreError::Internal(e.to_string()))?),
        channels: Set(
            serde_json::to_value(&channels).map_err(|e| CoreError::Internal(e.to_string()))?
        ),
        status: Set(status.as_str().into()),
        send_at: Set(send_at),
        timezone: Set(tz.name().to_string()),
        read_by: Set(input.read_by),
        urgent: Set(input.urgent),
        audience_size: Set(size as i64),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        fanout_cursor: Set(0),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    if status == Status::Sending {
        // Only a wake-up call: if it is lost, the workers' sweep finds the broadcast anyway.
        if let Err(e) = core
            .queue
            .push(Job::Fanout {
                broadcast_id: row.id,
            })
            .await
        {
            tracing::warn!(broadcast.id = row.id, error = %e, "could not queue the fan-out; the sweeper will pick it up");
        }
    }
    tracing::info!(
        broadcast.id = row.id,
        post.id = post.id,
        audience.size = size,
        status = status.as_str(),
        "broadcast created"
    );
    Ok(BroadcastView::from_row(row, post.title))
}

pub async fn find(core: &Core, id: i64) -> CoreResult<BroadcastView> {
    let b = broadcasts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("broadcast"))?;
    let title = posts::Entity::find_by_id(b.post_id)
        .one(&core.db)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    Ok(BroadcastView::from_row(b, title))
}

/// Newest first, optionally with one status.
pub async fn list(
    core: &Core,
    status: Option<&str>,
    page: PageRequest,
) -> CoreResult<Page<BroadcastView>> {
    let mut cond = Condition::all();
    if let Some(s) = status {
        let s = Status::parse(s).ok_or_else(|| {
            CoreError::invalid(
                "status",
                "must be one of scheduled, sending, sent, canceled, failed",
            )
        })?;
        cond = cond.add(broadcasts::Column::Status.eq(s.as_str()));
    }
    if let Some(after) = page.after {
        cond = cond.add(broadcasts::Column::Id.lt(after));
    }
    let rows = broadcasts::Entity::find()
        .filter(cond)
        .order_by_desc(broadcasts::Column::Id)
        .limit(page.limit + 1)
        .all(&core.db)
        .await?;
    let post_ids: Vec<i64> = rows.iter().map(|b| b.post_id).collect();
    let titles: std::collections::HashMap<i64, String> = posts::Entity::find()
        .filter(posts::Column::Id.is_in(post_ids))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.title))
        .collect();
    Ok(Page::from_rows(rows, page, |b| b.id).map(|b| {
        let t = titles.get(&b.post_id).cloned().unwrap_or_default();
        BroadcastView::from_row(b, t)
    }))
}

/// Cancels a broadcast that has not finished sending. 409 once it is sent or canceled.
pub async fn cancel(core: &Core, id: i64) -> CoreResult<BroadcastView> {
    let now = core.now();
    let r = broadcasts::Entity::update_many()
        .col_expr(
            broadcasts::Column::Status,
            Expr::value(Status::Canceled.as_str()),
        )
        .col_expr(broadcasts::Column::UpdatedAt, Expr::value(now))
        .filter(broadcasts::Column::Id.eq(id))
        .filter(
            broadcasts::Column::Status
                .is_in([Status::Scheduled.as_str(), Status::Sending.as_str()]),
        )
        .exec(&core.db)
        .await?;
    let view = find(core, id).await?;
    if r.rows_affected == 0 {
        return Err(CoreError::Conflict(format!(
            "the broadcast is already {}; there is nothing left to cancel",
            view.status.as_str()
        )));
    }
    tracing::info!(broadcast.id = id, "broadcast canceled");
    Ok(view)
}
