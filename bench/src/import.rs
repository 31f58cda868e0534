//! The import benchmark (issue 11): roster files of 10,000 and 100,000 lines (`--import-lines`)
//! posted to `POST /api/v1/admin/members/import` of the real API server in this process, each
//! line with a unit, a role, two tags and a phone. For each size: the first import (every line
//! creates a member), the same file again (every line unchanged), and a file that changes every
//! member's tags (every line an update). Prints the seconds of each request and lines per
//! second.

use std::fmt::Write as _;
use std::time::Instant;

use chrono::Utc;
use fingertip_core::auth::Role;
use fingertip_core::entities::{members, units};
use fingertip_core::settings::redact_url;
use sea_orm::{ActiveModelTrait, Set};

use crate::memory::memory;
use crate::target::Target;

/// A roster of `n` lines in `unit`, the `round`-th version of everyone's tags; phones start
/// with `prefix`, so that rosters of different sizes name different people.
fn roster(n: u64, unit: &str, prefix: usize, round: u32) -> String {
    let mut csv = String::from("name,unit,role,tags,phone\n");
    for i in 0..n {
        let _ = writeln!(
            csv,
            "党员{i:06},{unit},member,审计{};第{round}批,1{}{i:09}",
            i % 7,
            prefix + 3
        );
    }
    csv
}

pub async fn run(sizes: &[u64], target: &Target) -> anyhow::Result<()> {
    let app = crate::setup::app(target, None, &[]).await?;
    let core = app.core.clone();
    println!(
        "import benchmark: rosters of {} lines on {}",
        sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" and "),
        redact_url(&target.url)
    );
    let now = Utc::now();
    let admin = members::ActiveModel {
        name: Set("bench admin".into()),
        role: Set(Role::Admin),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    let token = crate::setup::token(&core, admin.id, Role::Admin).await?;

    let (addr, handle) = crate::setup::serve(core.clone())?;
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    for (k, &n) in sizes.iter().enumerate() {
        let unit_name = format!("基准支部{k}");
        units::ActiveModel {
            name: Set(unit_name.clone()),
            parent_id: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&core.db)
        .await?;
        for (what, round, expect) in [
            ("first import (creates)", 1, "created"),
            ("the same file again (unchanged)", 1, "unchanged"),
            ("every member's tags changed (updates)", 2, "updated"),
        ] {
            let body = roster(n, &unit_name, k, round);
            let t = Instant::now();
            let r = client
                .post(format!("{base}/api/v1/admin/members/import"))
                .bearer_auth(&token)
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await?;
            let status = r.status();
            let report: serde_json::Value = r.json().await?;
            let secs = t.elapsed().as_secs_f64();
            anyhow::ensure!(
                status.is_success() && report[expect] == n,
                "import of {n} lines answered {status}: {report}"
            );
            println!(
                "{n} lines, {what}: {secs:.2} s = {:.0} lines/s",
                n as f64 / secs
            );
        }
    }
    handle.stop(true).await;
    println!("{}", memory());
    Ok(())
}
