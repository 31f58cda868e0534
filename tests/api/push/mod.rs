//! Pushes through the real worker against the WeChat/WeCom mock: the one-time consents
//! ("credits") a push spends, the message, retries and dead letters, WeCom, reminders, and the
//! consent and template input.

mod credits;
mod failures;
mod ladder;
mod quiet;
mod reminders;
mod templates;
mod wecom;

use chrono::Duration;
use fingertip_core::entities::push_deliveries;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::fixtures::*;
use crate::helpers::*;
use crate::requests::*;

const LESSON_TEMPLATE: &str = "tmpl-lesson-001";
const SEND_PATH: &str = "/cgi-bin/message/subscribe/send";
const TITLE: &str = "学习贯彻党的二十届四中全会精神专题党课暨审计业务能力提升培训";

/// `n` members 党员0… (WeCom user ids User0…) in one unit, all but the last bound to WeChat;
/// the lesson template configured, and a lesson with a long title.
struct Branch {
    org: Org,
}

fn name(i: usize) -> String {
    format!("党员{i}")
}

async fn branch(app: TestApp, n: usize) -> Branch {
    let mut org = Org::builder(app).unit(BRANCH, None);
    for i in 0..n {
        org = org.member_with(&name(i), BRANCH, move |m| m.wecom(&format!("User{i}")));
    }
    let org = org
        .post(
            NewPost::lesson(TITLE)
                .summary("本月党课")
                .body("正文")
                .untimed(),
        )
        .signed_in((0..n - 1).map(name))
        .build()
        .await;
    lesson_template(&org).await;
    Branch { org }
}

/// The lesson's subscribe template, registered on the platform mock and configured.
async fn lesson_template(org: &Org) {
    org.app
        .mock
        .register_template(LESSON_TEMPLATE, &["thing1", "time2", "phrase3", "thing4"]);
    let r = org
        .app
        .request(
            reqwest::Method::PUT,
            "/api/v1/admin/push/templates/lesson",
            Some(&org.admin().await),
            Some(json!({
                "template_id": LESSON_TEMPLATE,
                "page": "pages/inbox/item?id={item_id}",
                "fields": {"thing1": "title", "time2": "time", "phrase3": "kind", "thing4": "sender"}
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Member `name` taps "allow" for the lesson template `times` times: our ledger and the
/// platform both learn it.
async fn subscribe(org: &Org, name: &str, times: u32) -> Value {
    let mut last = Value::Null;
    for _ in 0..times {
        let r = org
            .app
            .post(
                "/api/v1/me/wechat/subscriptions",
                &org.token(name).await,
                json!({"results": {LESSON_TEMPLATE: "accept", "tmpl-other": "reject"}}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        org.app
            .mock
            .grant_subscription(&format!("o-{}", org.id(name)), LESSON_TEMPLATE, 1);
        last = r.body;
    }
    last
}

/// A plain app (WeChat configured) with its branch of `n`.
async fn wechat_branch(n: usize) -> Branch {
    branch(spawn_app().await, n).await
}

/// An app with WeCom configured too.
async fn wecom_branch(n: usize) -> Branch {
    let app = spawn_with(SpawnOptions {
        wechat: true,
        wecom: true,
        ..Default::default()
    })
    .await;
    branch(app, n).await
}

impl Branch {
    fn app(&self) -> &TestApp {
        &self.org.app
    }

    fn openid(&self, i: usize) -> String {
        format!("o-{}", self.org.id(&name(i)))
    }

    async fn token(&self, i: usize) -> String {
        self.org.token(&name(i)).await
    }

    /// Member `i` taps "allow" for the lesson template `times` times: our ledger and the
    /// platform both learn it.
    async fn subscribe(&self, i: usize, times: u32) -> Value {
        subscribe(&self.org, &name(i), times).await
    }

    /// The lesson to the whole unit on `channels`; the broadcast's id.
    async fn broadcast(&self, channels: &[&str]) -> String {
        let bc = Broadcast::to_unit(self.org.post(), self.org.unit(BRANCH)).channels(channels);
        id(&self.app().broadcast(&self.org.admin().await, bc).await)
    }

    /// The broadcast's push stats, per channel.
    async fn stats(&self, id: &str) -> Value {
        let admin = self.org.admin().await;
        self.app().broadcast_record(&admin, id).await["stats"]["push"].clone()
    }

    async fn deliveries(&self, id: &str) -> Vec<push_deliveries::Model> {
        push_deliveries::Entity::find()
            .filter(push_deliveries::Column::BroadcastId.eq(id.parse::<i64>().unwrap()))
            .all(&self.app().core.db)
            .await
            .unwrap()
    }

    /// Member `i`'s credits for the lesson template, as the member sees them.
    async fn credits(&self, i: usize) -> i64 {
        let r = self
            .app()
            .get("/api/v1/me/wechat/subscriptions", &self.token(i).await)
            .await;
        assert_eq!(r.status, 200, "credits of member {i}: {:?}", r.body);
        r.body["credits"][LESSON_TEMPLATE].as_i64().unwrap_or(0)
    }

    /// The broadcast's recipients as the admin lists them (`query` such as `?state=failed`).
    async fn recipients(&self, id: &str, query: &str) -> Vec<Value> {
        let admin = self.org.admin().await;
        let path = format!("/api/v1/admin/broadcasts/{id}/recipients{query}");
        let r = self.app().get(&path, &admin).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["items"].as_array().unwrap().clone()
    }

    /// Advances the clock by `by` and lets the workers do what is due.
    async fn later(&self, by: Duration) {
        self.app().clock.advance(by);
        self.app().drain().await;
    }
}
