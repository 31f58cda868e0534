use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn units_form_a_tree() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.create_unit(&t, "区审计局机关党委", None).await;
    let branch = app.create_unit(&t, "第一党支部", Some(&root)).await;
    app.create_unit(&t, "第一党小组", Some(&branch)).await;
    let r = app.get("/api/v1/admin/units", &t).await;
    assert_eq!(r.status, 200);
    let tree = &r.body["items"];
    assert_eq!(tree[0]["name"], "区审计局机关党委");
    assert_eq!(tree[0]["children"][0]["children"][0]["name"], "第一党小组");
    let r = app
        .post(
            "/api/v1/admin/units",
            &t,
            json!({"name": "x", "parent_id": "99999"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["parent_id"]);
    let r = app
        .post("/api/v1/admin/units", &t, json!({"name": "  "}))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn member_creation_validates_every_field_at_once() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/admin/members",
            &t,
            json!({"name": "", "phone": "call me", "tags": ["a".repeat(40)]}),
        )
        .await;
    assert_eq!(r.status, 400);
    let fields = r.detail_fields();
    for f in ["name", "unit_id", "tags", "phone"] {
        assert!(
            fields.contains(&f.to_string()),
            "{f} missing from {fields:?}"
        );
    }
    let unit = app.create_unit(&t, "支部", None).await;
    let r = app
        .post(
            "/api/v1/admin/members",
            &t,
            json!({"name": "赵六", "unit_id": unit, "role": "king"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["role"]);
}

#[tokio::test]
async fn members_are_listed_with_filters_and_cursor_pages() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.create_unit(&t, "机关党委", None).await;
    let a = app.create_unit(&t, "一支部", Some(&root)).await;
    let b = app.create_unit(&t, "二支部", Some(&root)).await;
    for i in 0..5 {
        app.create_member(
            &t,
            json!({"name": format!("一支部成员{i}"), "unit_id": a, "tags": ["青年"]}),
        )
        .await;
    }
    for i in 0..3 {
        app.create_member(&t, json!({"name": format!("二支部成员{i}"), "unit_id": b, "phone": format!("1380000000{i}")})).await;
    }
    let r = app
        .get(&format!("/api/v1/admin/members?unit_id={root}"), &t)
        .await;
    assert_eq!(
        r.body["items"].as_array().unwrap().len(),
        8,
        "a unit's subtree is included"
    );
    let r = app
        .get(&format!("/api/v1/admin/members?unit_id={b}"), &t)
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
    let r = app
        .get("/api/v1/admin/members?tag=%E9%9D%92%E5%B9%B4", &t)
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 5);
    let r = app.get("/api/v1/admin/members?q=13800000001", &t).await;
    assert_eq!(r.body["items"][0]["name"], "二支部成员1");

    // Pages of 3 walk all 9 members (8 + the admin) exactly once.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/members?limit=3&cursor={c}"),
            None => "/api/v1/admin/members?limit=3".into(),
        };
        let r = app.get(&path, &t).await;
        assert_eq!(r.status, 200);
        for m in r.body["items"].as_array().unwrap() {
            seen.push(m["id"].as_str().unwrap().to_string());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(seen.len(), 9);
    assert_eq!(unique.len(), 9);
}

#[tokio::test]
async fn a_member_can_be_changed() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let unit = app.create_unit(&t, "支部", None).await;
    let m = app
        .create_member(
            &t,
            json!({"name": "钱七", "unit_id": unit, "phone": "13900000000"}),
        )
        .await;
    let id = m["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/admin/members/{id}"),
            &t,
            json!({"role": "secretary", "tags": ["委员"], "phone": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["role"], "secretary");
    assert_eq!(r.body["tags"], json!(["委员"]));
    assert!(r.body["phone"].is_null());
    assert_eq!(r.body["name"], "钱七");
}

#[tokio::test]
async fn a_roster_saved_by_excel_in_gbk_imports_as_utf_8_does() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    app.create_unit(&t, "第一党支部", None).await;
    let csv = "name,unit,role,tags,phone\n张三,第一党支部,member,青年;支委,13800000001\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(csv);
    assert!(!unmappable && std::str::from_utf8(&gbk).is_err());
    let r = app
        .post_raw("/api/v1/admin/members/import", &t, "text/csv", gbk.to_vec())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (
            r.body["created"].as_u64(),
            r.body["errors"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0)),
        "{:?}",
        r.body
    );
    let listed = app
        .get("/api/v1/admin/members?q=%E5%BC%A0%E4%B8%89", &t)
        .await;
    assert_eq!(listed.body["items"][0]["name"], "张三", "{:?}", listed.body);
    assert_eq!(
        listed.body["items"][0]["tags"],
        serde_json::json!(["支委", "青年"])
    );
    // Bytes that are no text at all are refused whole, with the reason.
    let r = app
        .post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            vec![0x6e, 0x61, 0x0a, 0xff, 0xff, 0x0a],
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("neither UTF-8 nor GBK"),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn csv_import_reports_bad_lines_and_imports_the_rest() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let unit = app.create_unit(&t, "第一党支部", None).await;
    let csv = "\u{feff}name,unit,role,tags,phone,wecom_userid\n\
               张三,第一党支部,member,青年;党员,13800000001,zhangsan\n\
               ,第一党支部,member,,,\n\
               李四,不存在的支部,member,,,\n\
               王五,第一党支部,emperor,,,\n\
               赵六,第一党支部,secretary,委员,13800000004,\n\
               孙七,第一党支部,,,not-a-phone,\n";
    let r = app
        .post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["created"], 2);
    assert_eq!(r.body["updated"], 0);
    let errors = r.body["errors"].as_array().unwrap();
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 5, 7], "{errors:?}");
    assert!(
        errors[1]["message"]
            .as_str()
            .unwrap()
            .contains("不存在的支部")
    );

    // Importing again updates the members matched by phone instead of duplicating them.
    let again = "name,unit,role,tags,phone\n张三丰,第一党支部,member,青年,13800000001\n";
    let r = app
        .post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            again.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        (r.body["created"].as_u64(), r.body["updated"].as_u64()),
        (Some(0), Some(1))
    );
    let r = app
        .get(&format!("/api/v1/admin/members?unit_id={unit}"), &t)
        .await;
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["张三丰", "赵六"]);

    let r = app
        .post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            b"nom,unite\nx,y\n".to_vec(),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.detail_fields(), vec!["header"]);
}

#[tokio::test]
async fn a_roster_is_checked_whole_then_written_once_with_an_entry_per_member() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    app.create_unit(&t, "第二党支部", None).await;
    let csv = "name,unit,tags,phone\n\
               周一,第二党支部,青年,13900000001\n\
               吴二,第二党支部,,13900000002\n\
               周一一,第二党支部,,13900000001\n\
               郑三,第二党支部,,\n";
    let import = |body: &'static str| {
        app.post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            body.as_bytes().to_vec(),
        )
    };
    let r = import(csv).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["created"], &r.body["updated"], &r.body["unchanged"]),
        (&json!(3), &json!(0), &json!(0))
    );
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 4);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("repeats line 2 (the same phone)"),
        "{errors:?}"
    );

    // The same file again: nothing new to write. One change: one update.
    let r = import(csv).await;
    assert_eq!(
        (&r.body["created"], &r.body["updated"], &r.body["unchanged"]),
        (&json!(0), &json!(0), &json!(3))
    );
    let r = import("name,unit,tags,phone\n周一,第二党支部,青年;支委,13900000001\n").await;
    assert_eq!(
        (&r.body["created"], &r.body["updated"], &r.body["unchanged"]),
        (&json!(0), &json!(1), &json!(0))
    );
    let m = app.get("/api/v1/admin/members?q=周一", &t).await;
    let tags = &m.body["items"][0]["tags"];
    assert_eq!(tags, &json!(["支委", "青年"]));

    // Every member created or changed has its own entry in the chain, and the chain holds.
    let created = app
        .get("/api/v1/admin/audit?action=member.create&limit=100", &t)
        .await;
    let by_import: Vec<&Value> = created.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["summary"]["via"] == "import")
        .collect();
    assert_eq!(by_import.len(), 3);
    assert!(
        by_import
            .iter()
            .all(|e| e["summary"]["file_sha256"].is_string())
    );
    let updated = app
        .get("/api/v1/admin/audit?action=member.update&limit=100", &t)
        .await;
    assert_eq!(updated.body["items"].as_array().unwrap().len(), 1);
    let v = app.get("/api/v1/admin/audit/verify", &t).await;
    assert_eq!(v.body["ok"], true, "{:?}", v.body);
}

#[tokio::test]
async fn two_lines_naming_one_member_by_different_keys_are_one_person() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    app.create_unit(&t, "第三党支部", None).await;
    let import = |body: &'static str| {
        app.post_raw(
            "/api/v1/admin/members/import",
            &t,
            "text/csv",
            body.as_bytes().to_vec(),
        )
    };
    let r = import("name,unit,tags,phone\n王五,第三党支部,青年,13700000001\n").await;
    assert_eq!(r.body["created"], 1, "{:?}", r.body);
    // By phone, then by name in the unit: both lines name 王五.
    let r = import(
        "name,unit,tags,phone\n\
         王五,第三党支部,支委,13700000001\n\
         王五,第三党支部,老党员,\n",
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        (&r.body["updated"], &r.body["created"]),
        (&json!(1), &json!(0))
    );
    let errors = r.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["line"], 3);
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("the same member as line 2")
    );
    let m = app.get("/api/v1/admin/members?q=王五", &t).await;
    assert_eq!(m.body["items"][0]["tags"], json!(["支委"]));
}
