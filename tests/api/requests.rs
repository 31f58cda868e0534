//! Typed bodies of the requests tests send over and over (a broadcast, a meeting, a series, a
//! member, a post) and the `TestApp` calls that send them. A raw `json!` is still right for a
//! body whose point is to be malformed or unusual; `merged` adds such fields to a typed body.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::helpers::{Resp, TestApp};

/// A time as the API takes it (RFC 3339).
pub fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// A time the API answered with.
pub fn time(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map_or_else(|| panic!("not a time: {v}"), |t| t.with_timezone(&Utc))
}

/// The `id` of an object the API answered with.
pub fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// `body` as JSON with the fields of `extra` set over it (`null` included): for the tables of
/// bad input, where one field at a time is wrong.
pub fn merged(body: impl Serialize, extra: Value) -> Value {
    let mut body = serde_json::to_value(body).expect("a body serializes");
    for (k, v) in extra.as_object().expect("extra is an object") {
        body[k] = v.clone();
    }
    body
}

fn strings<S: ToString>(xs: impl IntoIterator<Item = S>) -> Vec<String> {
    xs.into_iter().map(|x| x.to_string()).collect()
}

/// Who a broadcast or a meeting reaches. The constructors pick one selector; the `and_`
/// methods combine (units, roles and tags narrow; member ids add people on top).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Audience {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    all: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unit_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    member_ids: Vec<String>,
}

impl Audience {
    /// Everyone on the roster.
    pub fn all() -> Self {
        Self {
            all: true,
            ..Default::default()
        }
    }

    /// Everyone in these units and their subtrees.
    pub fn units<S: ToString>(ids: impl IntoIterator<Item = S>) -> Self {
        Self::default().and_units(ids)
    }

    /// These people, by id.
    pub fn members<S: ToString>(ids: impl IntoIterator<Item = S>) -> Self {
        Self::default().and_members(ids)
    }

    pub fn roles<S: ToString>(roles: impl IntoIterator<Item = S>) -> Self {
        Self::default().and_roles(roles)
    }

    pub fn and_units<S: ToString>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.unit_ids.extend(strings(ids));
        self
    }

    pub fn and_members<S: ToString>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.member_ids.extend(strings(ids));
        self
    }

    pub fn and_roles<S: ToString>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.roles.extend(strings(roles));
        self
    }

    pub fn and_tags<S: ToString>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.tags.extend(strings(tags));
        self
    }
}

/// `POST /admin/broadcasts` (and the fields a `PATCH` may carry).
#[derive(Debug, Clone, Serialize)]
pub struct Broadcast {
    post_id: String,
    audience: Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    channels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    send_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recurrence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ladder: Option<serde_json::Value>,
}

impl Broadcast {
    /// `post` to `audience`, now, on every configured channel.
    pub fn new(post: &str, audience: Audience) -> Self {
        Self {
            post_id: post.to_string(),
            audience,
            channels: None,
            send_at: None,
            recurrence: None,
            timezone: None,
            read_by: None,
            ladder: None,
        }
    }

    pub fn to_all(post: &str) -> Self {
        Self::new(post, Audience::all())
    }

    /// `post` to everyone in `unit` and its subtree.
    pub fn to_unit(post: &str, unit: &str) -> Self {
        Self::new(post, Audience::units([unit]))
    }

    /// Sent at `t` instead of now.
    pub fn at(self, t: DateTime<Utc>) -> Self {
        self.send_at(&rfc(t))
    }

    /// Sent at a time written as a client would write it.
    pub fn send_at(mut self, t: &str) -> Self {
        self.send_at = Some(t.to_string());
        self
    }

    /// Sent at every occurrence of an RRULE.
    pub fn every(mut self, rrule: &str) -> Self {
        self.recurrence = Some(rrule.to_string());
        self
    }

    pub fn in_zone(mut self, tz: &str) -> Self {
        self.timezone = Some(tz.to_string());
        self
    }

    pub fn channels(mut self, channels: &[&str]) -> Self {
        self.channels = Some(strings(channels));
        self
    }

    /// Required reading by `t` (with the default ladder unless [`Broadcast::ladder`]).
    pub fn read_by(mut self, t: DateTime<Utc>) -> Self {
        self.read_by = Some(rfc(t));
        self
    }

    pub fn ladder(mut self, ladder: serde_json::Value) -> Self {
        self.ladder = Some(ladder);
        self
    }
}

/// `POST /admin/meetings`.
#[derive(Debug, Clone, Serialize)]
pub struct Meeting {
    kind: String,
    title: String,
    unit_id: String,
    starts_at: String,
    ends_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    online_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agenda: Option<String>,
    audience: Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reminder_offsets: Option<Vec<i64>>,
}

impl Meeting {
    /// A meeting of `kind` held by `unit` from `starts` to `ends`, for everyone in the unit.
    pub fn new(
        kind: &str,
        title: &str,
        unit: &str,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: kind.to_string(),
            title: title.to_string(),
            unit_id: unit.to_string(),
            starts_at: rfc(starts),
            ends_at: rfc(ends),
            place: None,
            online_link: None,
            agenda: None,
            audience: Audience::units([unit]),
            post_id: None,
            reminder_offsets: None,
        }
    }

    pub fn place(mut self, place: &str) -> Self {
        self.place = Some(place.to_string());
        self
    }

    pub fn online(mut self, link: &str) -> Self {
        self.online_link = Some(link.to_string());
        self
    }

    pub fn agenda(mut self, agenda: &str) -> Self {
        self.agenda = Some(agenda.to_string());
        self
    }

    /// The lesson of the meeting (its make-up study).
    pub fn lesson(mut self, post: &str) -> Self {
        self.post_id = Some(post.to_string());
        self
    }

    /// Reminders this many minutes before the start (none for `&[]`).
    pub fn reminders(mut self, minutes: &[i64]) -> Self {
        self.reminder_offsets = Some(minutes.to_vec());
        self
    }
}

/// `POST /admin/meeting-series`.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    kind: String,
    title: String,
    unit_id: String,
    starts_at: String,
    duration_minutes: i64,
    recurrence: String,
    timezone: String,
    place: String,
    agenda: String,
    audience: Audience,
}

impl Series {
    /// A series of `kind` held by `unit`, first at `starts` (as a client writes it), for
    /// everyone in the unit, in Shanghai time.
    pub fn new(kind: &str, title: &str, unit: &str, starts: &str, recurrence: &str) -> Self {
        Self {
            kind: kind.to_string(),
            title: title.to_string(),
            unit_id: unit.to_string(),
            starts_at: starts.to_string(),
            duration_minutes: 60,
            recurrence: recurrence.to_string(),
            timezone: "Asia/Shanghai".to_string(),
            place: String::new(),
            agenda: String::new(),
            audience: Audience::units([unit]),
        }
    }

    pub fn minutes(mut self, minutes: i64) -> Self {
        self.duration_minutes = minutes;
        self
    }

    pub fn place(mut self, place: &str) -> Self {
        self.place = place.to_string();
        self
    }

    pub fn agenda(mut self, agenda: &str) -> Self {
        self.agenda = agenda.to_string();
        self
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    pub fn recurrence(mut self, rrule: &str) -> Self {
        self.recurrence = rrule.to_string();
        self
    }

    pub fn audience(mut self, audience: Audience) -> Self {
        self.audience = audience;
        self
    }
}

/// `POST /admin/members`.
#[derive(Debug, Clone, Serialize)]
pub struct NewMember {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wecom_userid: Option<String>,
}

impl NewMember {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            unit_id: None,
            role: None,
            tags: vec![],
            wecom_userid: None,
        }
    }

    pub fn unit(mut self, unit: &str) -> Self {
        self.unit_id = Some(unit.to_string());
        self
    }

    pub fn role(mut self, role: &str) -> Self {
        self.role = Some(role.to_string());
        self
    }

    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = strings(tags);
        self
    }

    pub fn wecom(mut self, userid: &str) -> Self {
        self.wecom_userid = Some(userid.to_string());
        self
    }
}

/// `POST /admin/posts`.
#[derive(Debug, Clone, Serialize)]
pub struct NewPost {
    kind: String,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    body_md: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    study_minutes: Option<i64>,
}

impl NewPost {
    /// A lesson: "本月学习", a short body, thirty minutes of study.
    pub fn lesson(title: &str) -> Self {
        Self {
            kind: "lesson".to_string(),
            title: title.to_string(),
            summary: Some("本月学习".to_string()),
            body_md: "# 学习内容\n\n正文".to_string(),
            study_minutes: Some(30),
        }
    }

    pub fn summary(mut self, summary: &str) -> Self {
        self.summary = Some(summary.to_string());
        self
    }

    pub fn body(mut self, body_md: &str) -> Self {
        self.body_md = body_md.to_string();
        self
    }

    /// `minutes` of study time.
    pub fn study(mut self, minutes: i64) -> Self {
        self.study_minutes = Some(minutes);
        self
    }

    /// No study time counted.
    pub fn untimed(mut self) -> Self {
        self.study_minutes = None;
        self
    }
}

fn json(body: impl Serialize) -> Value {
    serde_json::to_value(body).expect("a body serializes")
}

impl TestApp {
    /// `POST /admin/broadcasts`, as it answers.
    pub async fn try_broadcast(&self, token: &str, body: Broadcast) -> Resp {
        self.post("/api/v1/admin/broadcasts", token, json(body))
            .await
    }

    /// `POST /admin/broadcasts`, which must be created; the broadcast.
    pub async fn broadcast(&self, token: &str, body: Broadcast) -> Value {
        let r = self.try_broadcast(token, body).await;
        assert_eq!(r.status, 201, "create broadcast: {:?}", r.body);
        r.body
    }

    /// `GET /admin/broadcasts/{id}`, which must be there.
    pub async fn broadcast_record(&self, token: &str, id: &str) -> Value {
        let r = self
            .get(&format!("/api/v1/admin/broadcasts/{id}"), token)
            .await;
        assert_eq!(r.status, 200, "broadcast {id}: {:?}", r.body);
        r.body
    }

    /// `POST /admin/broadcasts/{id}/{action}` (`cancel`, `remind`) with an empty body.
    pub async fn broadcast_action(&self, token: &str, id: &str, action: &str) -> Resp {
        self.post(
            &format!("/api/v1/admin/broadcasts/{id}/{action}"),
            token,
            serde_json::json!({}),
        )
        .await
    }

    /// `POST /admin/meetings`, which must be created; the meeting.
    pub async fn meeting(&self, token: &str, body: Meeting) -> Value {
        let r = self.post("/api/v1/admin/meetings", token, json(body)).await;
        assert_eq!(r.status, 201, "create meeting: {:?}", r.body);
        r.body
    }

    /// `POST /admin/posts` with a typed body, which must be created; the post's id.
    pub async fn create_post_with(&self, token: &str, body: NewPost) -> String {
        let r = self.post("/api/v1/admin/posts", token, json(body)).await;
        assert_eq!(r.status, 201, "create post: {:?}", r.body);
        id(&r.body)
    }

    /// The member's inbox items (first page of up to 100).
    pub async fn inbox(&self, token: &str) -> Vec<Value> {
        let r = self.get("/api/v1/inbox?limit=100", token).await;
        assert_eq!(r.status, 200, "inbox: {:?}", r.body);
        r.body["items"].as_array().unwrap().clone()
    }

    /// `POST /inbox/{item}/read`.
    pub async fn read(&self, token: &str, item: &str) -> Resp {
        self.post(
            &format!("/api/v1/inbox/{item}/read"),
            token,
            serde_json::json!({}),
        )
        .await
    }

    pub async fn unread_count(&self, token: &str) -> i64 {
        let r = self.get("/api/v1/inbox/unread-count", token).await;
        assert_eq!(r.status, 200, "unread count: {:?}", r.body);
        r.body["unread_count"].as_i64().unwrap()
    }

    pub async fn create_unit(&self, token: &str, name: &str, parent: Option<&str>) -> String {
        let r = self
            .post(
                "/api/v1/admin/units",
                token,
                serde_json::json!({"name": name, "parent_id": parent}),
            )
            .await;
        assert_eq!(r.status, 201, "create unit: {:?}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// `POST /admin/members` (a `NewMember`, or raw JSON), which must be created; the member.
    pub async fn create_member(&self, token: &str, body: impl serde::Serialize) -> Value {
        let body = serde_json::to_value(body).expect("a body serializes");
        let r = self.post("/api/v1/admin/members", token, body).await;
        assert_eq!(r.status, 201, "create member: {:?}", r.body);
        r.body
    }

    /// A lesson (`NewPost::lesson`) titled `title`; its id.
    pub async fn create_post(&self, token: &str, title: &str) -> String {
        self.create_post_with(token, NewPost::lesson(title)).await
    }
}
