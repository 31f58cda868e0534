//! The console's meeting calendar (日历): the secretary's unit rule by rule, each period met,
//! due, missed or upcoming; another branch's is not theirs to see.

use chrono::Duration;

use super::{give_password, sign_in};
use crate::fixtures::{Org, beijing};
use crate::helpers::*;
use crate::reading::Browser;
use crate::requests::*;

#[tokio::test]
async fn a_secretary_sees_the_units_year_on_the_calendar() {
    let org = Org::builder(spawn_app().await)
        .at(beijing(1, 10, 10, 0))
        .unit("支部甲", None)
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .lesson("党课")
        .build()
        .await;
    let app = &org.app;
    let starts = beijing(1, 20, 14, 0);
    let m = Meeting::new(
        "themed_day",
        "一月主题党日",
        org.unit("支部甲"),
        starts,
        starts + Duration::hours(2),
    )
    .place("三楼会议室");
    app.meeting(&org.admin().await, m).await;
    app.clock.set(beijing(3, 25, 10, 0));
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut browser = Browser::new();
    sign_in(app, &mut browser, "shuji", "a-long-password").await;

    let page = browser
        .open(&format!("{}/console/calendar", app.base))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("支部甲 2026年组织生活日历"),
        "the secretary's own unit"
    );
    assert!(
        page.body
            .contains(r#"<li class="met" title="已召开：一月主题党日">1月</li>"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<li class="missed" title="未召开">2月</li>"#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("主题党日：3月，还剩 6 天"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<li class="upcoming" title="未开始">4月</li>"#)
    );
    assert!(
        !page.body.contains("支部乙"),
        "only the secretary's subtree to choose from"
    );

    let other = browser
        .open(&format!(
            "{}/console/calendar?unit_id={}",
            app.base,
            org.unit("支部乙")
        ))
        .await;
    assert_eq!(other.status, 404, "{}", other.body);
}
