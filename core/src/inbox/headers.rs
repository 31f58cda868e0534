//! What an inbox line shows of its post and broadcast (kind, title, summary, read-by date),
//! remembered for a moment in this process, so that the inbox page is the member's own rows
//! and nothing else: a district's inboxes all point at the same few hundred posts, and joining
//! them on every page doubled the statement's work (issue 11).
//!
//! The bound: an entry is used for at most [`TTL`] after it was read. Editing a post or a
//! broadcast through this process forgets its entry at once, and a read that started before
//! the edit is not remembered after it (a generation bumped by every forget); another API
//! process sees the edit within the TTL. A missing entry costs one statement for all of a page's misses.
//!
//! A map with a time per entry, as `auth::cache`, rather than a caching crate: the same short
//! fixed TTL and a bound on size are all that is needed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entities::{broadcasts, posts};
use crate::error::CoreResult;
use crate::posts::PostKind;

/// Longest an entry is used without reading it again.
pub const TTL: Duration = Duration::from_secs(2);
/// Most entries of each kind; past it, expired entries go, then everything.
const CAPACITY: usize = 10_000;

/// What a line shows of its post.
#[derive(Debug, Clone)]
pub struct PostHeader {
    pub kind: PostKind,
    pub title: String,
    pub summary: Option<String>,
}

impl From<&posts::Model> for PostHeader {
    fn from(p: &posts::Model) -> Self {
        Self {
            kind: p.kind,
            title: p.title.clone(),
            summary: p.summary.clone(),
        }
    }
}

struct Timed<T> {
    value: T,
    read: Instant,
}

#[derive(Default)]
pub struct Headers {
    /// Shared, so that a page takes its headers without copying their texts.
    posts: Mutex<HashMap<i64, Timed<Arc<PostHeader>>>>,
    read_by: Mutex<HashMap<i64, Timed<Option<DateTime<Utc>>>>>,
    /// Bumped by every forget: what was read from the database before a forget is not
    /// remembered after it (it may be from before the edit).
    generation: AtomicU64,
}

fn fresh<T: Clone>(map: &Mutex<HashMap<i64, Timed<T>>>, ids: &[i64]) -> HashMap<i64, T> {
    let Ok(map) = map.lock() else {
        return HashMap::new();
    };
    // One look at the clock for the page, not one per line.
    let now = Instant::now();
    ids.iter()
        .filter_map(|id| {
            map.get(id)
                .filter(|e| now.saturating_duration_since(e.read) < TTL)
                .map(|e| (*id, e.value.clone()))
        })
        .collect()
}

fn remember<T>(
    map: &Mutex<HashMap<i64, Timed<T>>>,
    generation: &AtomicU64,
    (read, read_in): (Instant, u64),
    found: Vec<(i64, T)>,
) {
    let Ok(mut map) = map.lock() else {
        return;
    };
    // Under the lock, which every forget takes too: no forget slips in between.
    if generation.load(Ordering::Acquire) != read_in {
        return;
    }
    if map.len() + found.len() > CAPACITY {
        map.retain(|_, e| e.read.elapsed() < TTL);
        if map.len() + found.len() > CAPACITY {
            map.clear();
        }
    }
    for (id, value) in found {
        map.insert(id, Timed { value, read });
    }
}

impl Headers {
    /// The headers of these posts: remembered ones, and the rest in one statement. A post that
    /// does not exist is left out.
    pub async fn posts(
        &self,
        db: &impl ConnectionTrait,
        ids: &[i64],
    ) -> CoreResult<HashMap<i64, Arc<PostHeader>>> {
        let mut out = fresh(&self.posts, ids);
        let missing = missing(ids, &out);
        if !missing.is_empty() {
            let read = (Instant::now(), self.generation.load(Ordering::Acquire));
            let rows: Vec<(i64, PostKind, String, Option<String>)> = posts::Entity::find()
                .select_only()
                .columns([
                    posts::Column::Id,
                    posts::Column::Kind,
                    posts::Column::Title,
                    posts::Column::Summary,
                ])
                .filter(posts::Column::Id.is_in(missing))
                .into_tuple()
                .all(db)
                .await?;
            let found: Vec<(i64, Arc<PostHeader>)> = rows
                .into_iter()
                .map(|(id, kind, title, summary)| {
                    (
                        id,
                        Arc::new(PostHeader {
                            kind,
                            title,
                            summary,
                        }),
                    )
                })
                .collect();
            out.extend(found.iter().cloned());
            remember(&self.posts, &self.generation, read, found);
        }
        Ok(out)
    }

    /// The read-by dates of these broadcasts (`None`: no deadline, or no such broadcast).
    pub async fn read_by(
        &self,
        db: &impl ConnectionTrait,
        ids: &[i64],
    ) -> CoreResult<HashMap<i64, Option<DateTime<Utc>>>> {
        let mut out = fresh(&self.read_by, ids);
        let missing = missing(ids, &out);
        if !missing.is_empty() {
            let read = (Instant::now(), self.generation.load(Ordering::Acquire));
            let found: Vec<(i64, Option<DateTime<Utc>>)> = broadcasts::Entity::find()
                .select_only()
                .columns([broadcasts::Column::Id, broadcasts::Column::ReadBy])
                .filter(broadcasts::Column::Id.is_in(missing))
                .into_tuple()
                .all(db)
                .await?;
            out.extend(found.iter().cloned());
            remember(&self.read_by, &self.generation, read, found);
        }
        Ok(out)
    }

    /// After an edit of the post in this process.
    pub fn forget_post(&self, id: i64) {
        if let Ok(mut m) = self.posts.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            m.remove(&id);
        }
    }

    /// After an edit of the broadcast in this process.
    pub fn forget_broadcast(&self, id: i64) {
        if let Ok(mut m) = self.read_by.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            m.remove(&id);
        }
    }
}

/// The ids of `ids` not in `found`, each once.
fn missing<T>(ids: &[i64], found: &HashMap<i64, T>) -> Vec<i64> {
    let mut m: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !found.contains_key(id))
        .collect();
    m.sort_unstable();
    m.dedup();
    m
}
