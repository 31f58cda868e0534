//! The push benchmark: N recipients with a WeChat credit, the platform mock answering
//! after a fixed latency, and the real fan-out and push worker. Prints subscribe messages per
//! second, the mock's count of sends (it must equal N), and the highest number of sends the mock
//! saw within any one second, next to the configured rate limit that must hold it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use fingertip_core::audience::Audience;
use fingertip_core::auth::{Actor, Role};
use fingertip_core::broadcasts::{BroadcastInput, service};
use fingertip_core::entities::{members, posts, units, wechat_credits};
use fingertip_core::push::templates::{self, Source};
use fingertip_wechat_mock::MockWechat;
use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};

const APPID: &str = "wx-bench";
const SECRET: &str = "bench-secret";
const TEMPLATE: &str = "tmpl-bench";

pub async fn run(
    target: &crate::target::Target,
    n: u64,
    latency_ms: u64,
    rate: u64,
) -> anyhow::Result<()> {
    let mock = MockWechat::new(APPID, SECRET);
    let server = mock
        .start(([127, 0, 0, 1], 0).into())
        .await
        .context("starting the WeChat mock")?;
    mock.register_template(TEMPLATE, &["thing1", "time2"]);
    mock.set_latency(Duration::from_millis(latency_ms));

    let app = crate::setup::app(
        target,
        Some(16),
        &[
            ("FINGERTIP_WECHAT_APPID", APPID.into()),
            ("FINGERTIP_WECHAT_SECRET", SECRET.into()),
            ("FINGERTIP_WECHAT_API_BASE", server.base_url()),
            ("FINGERTIP_WECHAT_RATE", rate.to_string()),
            // The benchmark measures sending, whatever the hour it runs at.
            ("FINGERTIP_QUIET_HOURS", "off".into()),
        ],
    )
    .await?;
    let cfg = app.core.settings.push.send.clone();
    let core = app.core.clone();
    println!(
        "push benchmark: {n} recipients with credit, mock latency {latency_ms} ms, rate limit {rate}/s, concurrency {}",
        cfg.concurrency
    );

    // Members with a bound WeChat account and one credit each, on our side and the mock's.
    let now = Utc::now();
    let unit = units::ActiveModel {
        name: Set("推送基准支部".into()),
        parent_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    let txn = core.db.begin().await?;
    let per = 500u64;
    let mut made = 0u64;
    while made < n {
        let upto = (made + per).min(n);
        members::Entity::insert_many((made..upto).map(|i| members::ActiveModel {
            name: Set(format!("党员{i:06}")),
            unit_id: Set(Some(unit.id)),
            role: Set(Role::Member),
            wechat_openid: Set(Some(format!("bench-o-{i}"))),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
        made = upto;
    }
    txn.commit().await?;
    let ids: Vec<(i64, Option<String>)> = {
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        members::Entity::find()
            .select_only()
            .column(members::Column::Id)
            .column(members::Column::WechatOpenid)
            .filter(members::Column::UnitId.eq(unit.id))
            .into_tuple()
            .all(&core.db)
            .await?
    };
    let txn = core.db.begin().await?;
    for chunk in ids.chunks(1000) {
        wechat_credits::Entity::insert_many(chunk.iter().map(|(id, _)| {
            wechat_credits::ActiveModel {
                member_id: Set(*id),
                template_id: Set(TEMPLATE.into()),
                credits: Set(1),
                updated_at: Set(now),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    for (_, openid) in &ids {
        if let Some(o) = openid {
            mock.grant_subscription(o, TEMPLATE, 1);
        }
    }
    let actor = Actor {
        member_id: ids.first().map_or(0, |(id, _)| *id),
        role: Role::Admin,
        unit_id: Some(unit.id),
        session_id: "bench".into(),
    };
    templates::put(
        &core,
        &actor,
        "classroom",
        TEMPLATE,
        Some("pages/inbox/item?id={item_id}"),
        BTreeMap::from([
            ("thing1".to_string(), Source::Title),
            ("time2".to_string(), Source::Time),
        ]),
    )
    .await?;
    let post = posts::ActiveModel {
        kind: Set(fingertip_core::posts::PostKind::Classroom),
        title: Set("指尖课堂 十二月刊：审计人的初心与使命".into()),
        summary: Set(Some("push benchmark".into())),
        body_md: Set("正文".into()),
        media: Set(Default::default()),
        study_minutes: Set(0),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    let b = service::create(
        &core,
        &actor,
        BroadcastInput {
            post_id: post.id,
            audience: Audience {
                unit_ids: vec![unit.id],
                ..Default::default()
            },
            channels: Some(vec!["wechat".into()]),
            ..Default::default()
        },
    )
    .await?;
    let fanout = app.fanout_worker(0);
    while fanout.run_once().await? > 0 {}
    mock.reset_counters();

    let pusher = app
        .push_worker(0)
        .context("the push platform is not configured")?;
    let t = Instant::now();
    let mut sent = 0usize;
    loop {
        let r = pusher.run_once().await?;
        sent += r.sent;
        if r.claimed == 0 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let stats = fingertip_core::push::deliveries::stats(&core, b.id).await?;
    let mock_sends = mock.total_sends();
    let peak = mock.peak_sends_per_second();
    println!(
        "pushes: {sent} sent in {secs:.2} s = {:.0} sends/s (goal at 50 ms: at least 500/s)",
        sent as f64 / secs
    );
    println!(
        "mock: {mock_sends} sends accepted for {n} recipients ({}); peak {peak} sends in one second, limit {rate}/s ({})",
        if mock_sends == n {
            "equal"
        } else {
            "NOT EQUAL"
        },
        if peak <= rate {
            "never exceeded"
        } else {
            "EXCEEDED"
        }
    );
    println!(
        "stats: sent {}, failed {}, skipped {}, pending {}, unknown {}",
        stats.wechat.sent,
        stats.wechat.failed,
        stats.wechat.skipped,
        stats.wechat.pending,
        stats.wechat.unknown
    );
    println!("{}", crate::memory::memory());
    server.shutdown().await;
    anyhow::ensure!(
        mock_sends == n,
        "the mock accepted {mock_sends} sends for {n} recipients"
    );
    anyhow::ensure!(
        peak <= rate,
        "the rate limit was exceeded: {peak} in one second"
    );
    Ok(())
}
