//! The console's member pages and roster import: a secretary changes, adds and deactivates
//! members of their own subtree, imports a roster file (every bad line shown), and an admin
//! makes a secretary's one-time password link; all through the core services, audited.

use serde_json::json;

use super::{csrf_of, give_password, post_form, sign_in};
use crate::fixtures::Org;
use crate::helpers::*;
use crate::reading::Browser;

/// Posts a file as the import form does (`multipart/form-data`, fields `csrf` and `file`).
async fn upload(b: &Browser, url: &str, csrf: &str, file: &[u8]) -> (u16, String) {
    let boundary = "----fingertip-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"花名册.csv\"\r\n\
             content-type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let jar: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let resp = reqwest::Client::new()
        .post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("cookie", jar.join("; "))
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_secretary_keeps_their_units_roster_in_the_console() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("第一小组", Some("支部甲"))
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .member("乙员", "支部乙")
        .build()
        .await;
    let app = &org.app;
    let admin = org.admin().await;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut browser = Browser::new();
    sign_in(app, &mut browser, "shuji", "a-long-password").await;
    // A unit under the secretary's own: added from the roster, audited; a top-level one is an
    // admin's to add.
    let roster = browser.open(&format!("{}/console/roster", app.base)).await;
    let csrf = csrf_of(&roster.body);
    let (status, location, body) = post_form(
        &mut browser,
        &format!("{}/console/units", app.base),
        &[
            ("csrf", &csrf),
            ("name", "第二小组"),
            ("parent_id", org.unit("支部甲")),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(location.unwrap().ends_with("&unit_added=1"));
    let units = app.get("/api/v1/admin/units", &admin).await;
    assert!(
        units.body.to_string().contains("第二小组"),
        "{:?}",
        units.body
    );
    let (status, _, _) = post_form(
        &mut browser,
        &format!("{}/console/units", app.base),
        &[("csrf", &csrf), ("name", "新支部"), ("parent_id", "")],
    )
    .await;
    assert_eq!(status, 403);
    let roster = browser.open(&format!("{}/console/roster", app.base)).await;
    assert!(roster.body.contains("第二小组"));
    let one = org.id("党员一");
    let url = format!("{}/console/members/{one}", app.base);
    assert!(
        roster.body.contains(&format!("/console/members/{one}\"")),
        "the roster links to the member"
    );

    // The member's page: the binding QR code and invite code until they bind; no password link
    // for a secretary to make.
    let page = browser.open(&url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg") && page.body.contains("尚未绑定"));
    assert!(!page.body.contains("password-link"));
    assert!(
        !page.body.contains("value=\"admin\""),
        "a secretary is not offered the admin role"
    );
    let csrf = csrf_of(&page.body);
    let group = org.unit("第一小组").to_string();

    // Changed: the phone, the tags, the unit; the audit entry names the secretary.
    let (status, location, body) = post_form(
        &mut browser,
        &url,
        &[
            ("csrf", &csrf),
            ("name", "党员一"),
            ("unit_id", &group),
            ("role", "member"),
            ("tags", "青年，支委"),
            ("phone", "138 0000 0001"),
            ("wecom_userid", ""),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(location.unwrap(), format!("/console/members/{one}?saved=1"));
    let m = app
        .get(&format!("/api/v1/admin/members/{one}"), &admin)
        .await;
    assert_eq!(m.body["phone"], json!("138 0000 0001"));
    assert_eq!(m.body["unit_id"], json!(group));
    assert_eq!(m.body["tags"], json!(["支委", "青年"]));
    let audit = app
        .get(
            &format!("/api/v1/admin/audit?action=member.update&target_id={one}"),
            &admin,
        )
        .await;
    assert_eq!(
        audit.body["items"][0]["actor_id"],
        json!(org.id("书记甲")),
        "{:?}",
        audit.body
    );

    // A blank name comes back with the reason; an admin role is refused; nothing changes.
    let (status, _, body) = post_form(
        &mut browser,
        &url,
        &[
            ("csrf", &csrf),
            ("name", " "),
            ("role", "member"),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("姓名：不能为空"), "{body}");
    let (status, _, _) = post_form(
        &mut browser,
        &url,
        &[
            ("csrf", &csrf),
            ("name", "党员一"),
            ("role", "admin"),
            ("active", "1"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    let m = app
        .get(&format!("/api/v1/admin/members/{one}"), &admin)
        .await;
    assert_eq!(
        (m.body["name"].as_str(), m.body["role"].as_str()),
        (Some("党员一"), Some("member"))
    );

    // Deactivated by unticking 在册.
    let (status, _, _) = post_form(
        &mut browser,
        &url,
        &[("csrf", &csrf), ("name", "党员一"), ("role", "member")],
    )
    .await;
    assert_eq!(status, 303);
    let m = app
        .get(&format!("/api/v1/admin/members/{one}"), &admin)
        .await;
    assert_eq!(m.body["active"], json!(false));

    // Another unit's member does not exist for the secretary; nor can one be added there.
    let other = format!("{}/console/members/{}", app.base, org.id("乙员"));
    assert_eq!(browser.open(&other).await.status, 404);
    let new_url = format!("{}/console/members/new", app.base);
    let (status, _, body) = post_form(
        &mut browser,
        &new_url,
        &[
            ("csrf", &csrf),
            ("name", "外人"),
            ("unit_id", org.unit("支部乙")),
            ("role", "member"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        body.contains("单位：不存在，或不在您管理的范围内"),
        "{body}"
    );
    let outsider = app
        .get("/api/v1/admin/members?q=%E5%A4%96%E4%BA%BA", &admin)
        .await;
    assert_eq!(outsider.body["items"], json!([]));

    // Added to the group: its page shows the invite code to hand over.
    let (status, location, body) = post_form(
        &mut browser,
        &new_url,
        &[
            ("csrf", &csrf),
            ("name", "新同志"),
            ("unit_id", &group),
            ("role", "member"),
            ("tags", ""),
            ("phone", ""),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let location = location.unwrap();
    assert!(location.ends_with("?created=1"), "{location}");
    let page = browser.open(&format!("{}{location}", app.base)).await;
    assert!(page.body.contains("新同志") && page.body.contains("已添加"));
    let created = app
        .get(
            "/api/v1/admin/members?q=%E6%96%B0%E5%90%8C%E5%BF%97",
            &admin,
        )
        .await;
    let code = created.body["items"][0]["invite_code"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(page.body.contains(&code), "the invite code is on the page");
}

#[tokio::test]
async fn a_roster_file_is_imported_from_the_console_with_every_bad_line_shown() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .unit("支部乙", None)
        .secretary("书记甲", "支部甲")
        .build()
        .await;
    let app = &org.app;
    give_password(app, &org.id("书记甲"), "shuji", "a-long-password").await;
    let mut browser = Browser::new();
    sign_in(app, &mut browser, "shuji", "a-long-password").await;
    let url = format!("{}/console/roster/import", app.base);
    let form = browser.open(&url).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("multipart/form-data"));
    let csrf = csrf_of(&form.body);

    // Saved by Excel on a Chinese Windows: GBK. Line 3 names a unit the secretary does not
    // manage, line 4 has no name; the other two are written.
    let csv = "name,unit,role,tags,phone\n\
               张三,支部甲,member,青年,13800000001\n\
               李四,支部乙,member,,13800000002\n\
               ,支部甲,member,,\n\
               王五,支部甲,,,13800000003\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    let (status, body) = upload(&browser, &url, &csrf, &gbk).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<b>2</b><span>新增</span>"), "{body}");
    let bad: Vec<&str> = body
        .split("<td class=\"num\" data-label=\"行号\">")
        .skip(1)
        .map(|s| &s[..s.find('<').unwrap()])
        .collect();
    assert_eq!(bad, vec!["3", "4"], "{body}");
    let admin = org.admin().await;
    let listed = app
        .get("/api/v1/admin/members?q=%E5%BC%A0%E4%B8%89", &admin)
        .await;
    assert_eq!(listed.body["items"][0]["tags"], json!(["青年"]));
    let audit = app
        .get("/api/v1/admin/audit?action=member.create", &admin)
        .await;
    let by_import = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["summary"]["via"] == "import" && e["actor_id"] == json!(org.id("书记甲")))
        .count();
    assert_eq!(by_import, 2, "{:?}", audit.body);

    // No file: said so. A form from elsewhere (no CSRF value): refused, nothing read.
    let (status, body) = upload(&browser, &url, &csrf, b"").await;
    assert_eq!(status, 422);
    assert!(body.contains("请选择要导入的 CSV 文件"), "{body}");
    let (status, _) = upload(&browser, &url, "forged", csv.as_bytes()).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_admin_makes_a_secretarys_password_link_from_the_member_page() {
    let org = Org::builder(spawn_app().await)
        .unit("支部甲", None)
        .secretary("书记甲", "支部甲")
        .member("党员一", "支部甲")
        .build()
        .await;
    let app = &org.app;
    let mut browser = Browser::new();
    sign_in(app, &mut browser, ADMIN_USER, ADMIN_PASSWORD).await;
    let sec = org.id("书记甲");
    let page = browser
        .open(&format!("{}/console/members/{sec}", app.base))
        .await;
    assert!(page.body.contains("生成设置密码的链接"), "{}", page.body);
    let member_page = browser
        .open(&format!(
            "{}/console/members/{}",
            app.base,
            org.id("党员一")
        ))
        .await;
    assert!(
        !member_page.body.contains("生成设置密码的链接"),
        "only for secretaries and admins"
    );
    let csrf = csrf_of(&page.body);
    let (status, _, body) = post_form(
        &mut browser,
        &format!("{}/console/members/{sec}/password-link", app.base),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let at = body
        .find("/console/password?token=")
        .expect("the link is shown");
    let token: String = body[at + 24..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    // The link works: the secretary's page to choose a password opens.
    let mut theirs = Browser::new();
    let choose = theirs
        .open(&format!("{}/console/password?token={token}", app.base))
        .await;
    assert_eq!(choose.status, 200, "{}", choose.body);
    assert!(choose.body.contains("书记甲"));
}
