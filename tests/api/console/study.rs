//! Study hours in the console: a secretary sees their unit's year with who is behind, downloads
//! it for Excel, records a member's offline study and removes a record made in error; another
//! unit's secretary sees none of it.

use serde_json::json;

use super::{csrf_of, give_password, post_form, sign_in};
use crate::fixtures::Org;
use crate::helpers::*;
use crate::reading::Browser;

#[tokio::test]
async fn a_secretary_keeps_the_units_study_hours_in_the_console() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .secretary("书记乙", "支部乙")
        .member("党员一", "支部甲")
        .tagged("处长", "支部甲", &["领导干部"])
        .build()
        .await;
    let app = &org.app;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut b = Browser::new();
    sign_in(app, &mut b, "shuji", "a-long-password").await;

    let page = b.open(&format!("{}/console/study", app.base)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("党员一") && page.body.contains("处长"));
    assert!(
        page.body.contains("56.0 小时"),
        "处长's target: {}",
        page.body
    );
    let csv = b.open(&format!("{}/console/study.csv", app.base)).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.starts_with("\u{feff}姓名,单位,年度"),
        "{}",
        csv.body
    );

    // 党员一's year: a 90-minute reading-club session recorded by the form.
    let one = org.id("党员一");
    let url = format!("{}/console/members/{one}/study", app.base);
    let mine = b.open(&url).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let csrf = csrf_of(&mine.body);
    let today = app.clock_now().date_naive().to_string();
    let (status, _, body) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("kind", "reading_club"),
            ("title", "书香支部读书会"),
            ("minutes", "abc"),
            ("date", &today),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("时长：请填写分钟数（整数）"), "{body}");
    let (status, location, body) = post_form(
        &mut b,
        &url,
        &[
            ("csrf", &csrf),
            ("kind", "reading_club"),
            ("title", "书香支部读书会"),
            ("minutes", "90"),
            ("date", &today),
            ("note", "《习近平谈治国理政》"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let page = b.open(&format!("{}{}", app.base, location.unwrap())).await;
    assert!(page.body.contains("已记录") && page.body.contains("书香支部读书会"));
    assert!(
        page.body.contains("<b>1.5</b>"),
        "done, in hours: {}",
        page.body
    );
    let admin = org.admin().await;
    let year = app
        .get(&format!("/api/v1/admin/members/{one}/study"), &admin)
        .await;
    assert_eq!(year.body["total_minutes"], 90);
    let record = year.body["lines"][0]["record_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Another unit's secretary: the member and the record do not exist for them.
    give_password(app, &org.id("书记乙"), "shuji2", "a-long-password").await;
    let mut other = Browser::new();
    sign_in(app, &mut other, "shuji2", "a-long-password").await;
    assert_eq!(other.open(&url).await.status, 404);
    let their = other.open(&format!("{}/console/study", app.base)).await;
    assert!(!their.body.contains("党员一"));

    // Removed as made in error: the year is back to nothing, and the audit log says who.
    let (status, location, _) = post_form(
        &mut b,
        &format!("{}/console/study/records/{record}/delete", app.base),
        &[("csrf", &csrf), ("member_id", &one)],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().ends_with("?removed=1"));
    let year = app
        .get(&format!("/api/v1/admin/members/{one}/study"), &admin)
        .await;
    assert_eq!(year.body["total_minutes"], 0);
    let audit = app
        .get("/api/v1/admin/audit?action=study.remove", &admin)
        .await;
    assert_eq!(audit.body["items"][0]["actor_id"], json!(org.id("书记甲")));
}
