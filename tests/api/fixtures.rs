//! The organisation a test needs, built in one call and named the way the test speaks of it:
//! units and members by name (members with their tags and roles), an optional post, and the
//! members' tokens, logged in again whenever the test clock has moved past them.
//!
//! ```ignore
//! let org = Org::branch(spawn_app().await)
//!     .at(monday_morning())
//!     .tagged("张三", SECTION_1, &["支委"])
//!     .member("赵六", SECTION_2)
//!     .lesson("学习党章")
//!     .everyone_signed_in()
//!     .build()
//!     .await;
//! let t = org.token("张三").await;
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::requests::{NewMember, NewPost};

/// A moment of 2026 in Beijing time (UTC+8, the zone the tests' organisation runs in).
pub fn beijing(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(8 * 3600)
        .and_then(|z| {
            z.with_ymd_and_hms(2026, month, day, hour, minute, 0)
                .single()
        })
        .unwrap_or_else(|| panic!("2026-{month}-{day} {hour}:{minute} is not a time"))
        .with_timezone(&Utc)
}

/// The branch of `Org::branch`, and its two sections.
pub const BRANCH: &str = "第一党支部";
pub const SECTION_1: &str = "审计一科";
pub const SECTION_2: &str = "审计二科";

/// How long a member's token is used again, on the test clock (it lives 15 minutes).
const TOKEN_REUSE_MINUTES: i64 = 10;

type Customize = Box<dyn FnOnce(NewMember) -> NewMember + Send>;

pub struct OrgBuilder {
    app: TestApp,
    at: Option<DateTime<Utc>>,
    units: Vec<(String, Option<String>)>,
    members: Vec<(String, String, Customize)>,
    post: Option<NewPost>,
    signed_in: Option<Vec<String>>,
}

impl OrgBuilder {
    /// Sets the test clock to `t` before anything is made.
    pub fn at(mut self, t: DateTime<Utc>) -> Self {
        self.at = Some(t);
        self
    }

    /// A unit under `parent` (a unit named before), or a root.
    pub fn unit(mut self, name: &str, parent: Option<&str>) -> Self {
        self.units
            .push((name.to_string(), parent.map(str::to_string)));
        self
    }

    /// A plain member of `unit`.
    pub fn member(self, name: &str, unit: &str) -> Self {
        self.member_with(name, unit, |m| m)
    }

    /// A member of `unit` with tags.
    pub fn tagged(self, name: &str, unit: &str, tags: &'static [&'static str]) -> Self {
        self.member_with(name, unit, move |m| m.tags(tags))
    }

    /// The secretary of `unit`.
    pub fn secretary(self, name: &str, unit: &str) -> Self {
        self.member_with(name, unit, |m| m.role("secretary"))
    }

    /// A member of `unit`, with whatever else `f` sets on the body.
    pub fn member_with(
        mut self,
        name: &str,
        unit: &str,
        f: impl FnOnce(NewMember) -> NewMember + Send + 'static,
    ) -> Self {
        self.members
            .push((name.to_string(), unit.to_string(), Box::new(f)));
        self
    }

    /// A lesson (`NewPost::lesson`) titled `title`, as `org.post()`.
    pub fn lesson(self, title: &str) -> Self {
        self.post(NewPost::lesson(title))
    }

    /// A post, as `org.post()`.
    pub fn post(mut self, post: NewPost) -> Self {
        self.post = Some(post);
        self
    }

    /// These members bind WeChat (log in once) while the organisation is built.
    pub fn signed_in<S: ToString>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.signed_in = Some(names.into_iter().map(|n| n.to_string()).collect());
        self
    }

    /// Every member binds WeChat while the organisation is built.
    pub fn everyone_signed_in(mut self) -> Self {
        self.signed_in = Some(self.members.iter().map(|m| m.0.clone()).collect());
        self
    }

    pub async fn build(self) -> Org {
        let app = self.app;
        if let Some(t) = self.at {
            app.clock.set(t);
        }
        let admin = app.admin_token().await;
        let mut units: Vec<(String, String)> = vec![];
        for (name, parent) in self.units {
            let parent = parent.map(|p| lookup(&units, &p).to_string());
            let id = app.create_unit(&admin, &name, parent.as_deref()).await;
            units.push((name, id));
        }
        let mut members = vec![];
        for (name, unit, customize) in self.members {
            let body = customize(NewMember::new(&name).unit(lookup(&units, &unit)));
            members.push((name, app.create_member(&admin, body).await));
        }
        let post = match self.post {
            Some(p) => Some(app.create_post_with(&admin, p).await),
            None => None,
        };
        let org = Org {
            app,
            units,
            members,
            post,
            tokens: Default::default(),
        };
        for name in self.signed_in.unwrap_or_default() {
            org.token(&name).await;
        }
        org
    }
}

fn lookup<'a>(named: &'a [(String, String)], name: &str) -> &'a str {
    &named
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no unit named {name}"))
        .1
}

/// An app with its organisation.
pub struct Org {
    pub app: TestApp,
    units: Vec<(String, String)>,
    members: Vec<(String, Value)>,
    post: Option<String>,
    /// Each member's last token and when it was issued (test clock).
    tokens: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

impl Org {
    /// An empty organisation on `app`.
    pub fn builder(app: TestApp) -> OrgBuilder {
        OrgBuilder {
            app,
            at: None,
            units: vec![],
            members: vec![],
            post: None,
            signed_in: None,
        }
    }

    /// `BRANCH` with its two sections `SECTION_1` and `SECTION_2`, as most tests have it.
    pub fn branch(app: TestApp) -> OrgBuilder {
        Self::builder(app)
            .unit(BRANCH, None)
            .unit(SECTION_1, Some(BRANCH))
            .unit(SECTION_2, Some(BRANCH))
    }

    /// The id of the unit named `name`.
    pub fn unit(&self, name: &str) -> &str {
        lookup(&self.units, name)
    }

    /// The member named `name`, as the API created them (with the invite code).
    pub fn member(&self, name: &str) -> &Value {
        &self
            .members
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no member named {name}"))
            .1
    }

    /// The id of the member named `name`.
    pub fn id(&self, name: &str) -> String {
        crate::requests::id(self.member(name))
    }

    /// The post made with the organisation.
    pub fn post(&self) -> &str {
        self.post.as_deref().expect("the organisation has a post")
    }

    /// An access token of the bootstrap admin.
    pub async fn admin(&self) -> String {
        self.app.admin_token().await
    }

    /// An access token of the member named `name`: the last one while it has more than five
    /// minutes to live on the test clock, else a fresh WeChat login (binding the first time).
    pub async fn token(&self, name: &str) -> String {
        let now = self.app.clock_now();
        if let Some((token, issued)) = self.tokens.lock().unwrap().get(name)
            && *issued <= now
            && now < *issued + Duration::minutes(TOKEN_REUSE_MINUTES)
        {
            return token.clone();
        }
        let token = self.app.member_token(self.member(name)).await;
        self.tokens
            .lock()
            .unwrap()
            .insert(name.to_string(), (token.clone(), now));
        token
    }

    /// The member's inbox (first 100 items).
    pub async fn inbox(&self, name: &str) -> Vec<Value> {
        self.app.inbox(&self.token(name).await).await
    }
}
