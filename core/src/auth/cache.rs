//! Who a session is, remembered for a moment, so that a request's authentication costs no
//! database round trip when the same session was checked just before (a phone opening the
//! app sends its inbox page, its unread count, an item and its socket within a second).
//!
//! The bound: an entry is used for at most [`TTL`] after the database said who the session is.
//! A change that must end access sooner reaches every API process through the pub/sub: ending a
//! session (logout, a reused refresh token) and changing a member's role, unit or active flag
//! publish `SessionEnded` or `MembersChanged` (`auth::changes`), and each process's live hub
//! forgets the entries (`forget_*`), within milliseconds; a pub/sub gap clears everything. When
//! the pub/sub is down, the TTL is the bound and the database answers after it.
//!
//! A map with a time per entry rather than a caching crate (moka, quick_cache): what is needed is
//! a short fixed TTL, removal by member, and a bound on size, which is this file; the crates
//! bring their own eviction threads or policies for much larger caches.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::auth::{Actor, Role};

/// Longest an entry is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(2);
/// Most sessions remembered; past it, expired entries go, then everything.
const CAPACITY: usize = 100_000;

#[derive(Clone)]
struct Entry {
    member_id: i64,
    role: Role,
    unit_id: Option<i64>,
    checked: Instant,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Bumped by every forget: an answer read from the database before a forget is not
    /// remembered after it (it may predate the logout or the change).
    epoch: AtomicU64,
}

impl SessionCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The actor of session `sid` of member `member_id`, if checked within [`TTL`].
    pub fn get(&self, sid: &str, member_id: i64) -> Option<Actor> {
        let map = self.entries.lock().ok()?;
        let e = map.get(sid)?;
        (e.member_id == member_id && e.checked.elapsed() < TTL).then(|| Actor {
            member_id,
            role: e.role,
            unit_id: e.unit_id,
            session_id: sid.to_string(),
        })
    }

    /// Where the forgets stand: read before asking the database, given back to [`Self::put`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Remembers what the database said about `actor`'s session, asked at `checked` when the
    /// forgets stood at `epoch`; nothing if anything was forgotten since.
    pub fn put(&self, actor: &Actor, checked: Instant, epoch: u64) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        // Under the lock, which every forget takes too: no forget can slip in between.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if map.len() >= CAPACITY {
            map.retain(|_, e| e.checked.elapsed() < TTL);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(
            actor.session_id.clone(),
            Entry {
                member_id: actor.member_id,
                role: actor.role,
                unit_id: actor.unit_id,
                checked,
            },
        );
    }

    pub fn forget_session(&self, sid: &str) {
        if let Ok(mut map) = self.entries.lock() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            map.remove(sid);
        }
    }

    pub fn forget_members(&self, member_ids: &HashSet<i64>) {
        if let Ok(mut map) = self.entries.lock() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            map.retain(|_, e| !member_ids.contains(&e.member_id));
        }
    }

    /// After a pub/sub gap: what was missed is unknown.
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            self.epoch.fetch_add(1, Ordering::AcqRel);
            map.clear();
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(member_id: i64, sid: &str) -> Actor {
        Actor {
            member_id,
            role: Role::Member,
            unit_id: Some(1),
            session_id: sid.into(),
        }
    }

    #[test]
    fn an_entry_serves_its_own_member_until_it_expires_or_is_forgotten() {
        let c = SessionCache::new();
        c.put(&actor(7, "s1"), Instant::now(), c.epoch());
        c.put(&actor(8, "s2"), Instant::now(), c.epoch());
        assert_eq!(c.get("s1", 7).map(|a| a.member_id), Some(7));
        assert!(c.get("s1", 8).is_none(), "a token naming another member");
        assert!(c.get("s3", 7).is_none());

        let old = Instant::now().checked_sub(TTL).unwrap();
        c.put(&actor(9, "s4"), old, c.epoch());
        assert!(c.get("s4", 9).is_none(), "older than the TTL");

        c.forget_members(&HashSet::from([7]));
        assert!(c.get("s1", 7).is_none());
        assert!(c.get("s2", 8).is_some());
        c.forget_session("s2");
        assert!(c.get("s2", 8).is_none());
        c.put(&actor(8, "s2"), Instant::now(), c.epoch());
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn an_answer_read_before_a_forget_is_not_remembered() {
        let c = SessionCache::new();
        let before = c.epoch();
        // A logout commits and forgets while a request is still reading the session.
        c.forget_session("s1");
        c.put(&actor(7, "s1"), Instant::now(), before);
        assert!(c.get("s1", 7).is_none());
        c.put(&actor(7, "s1"), Instant::now(), c.epoch());
        assert!(c.get("s1", 7).is_some());
    }
}
