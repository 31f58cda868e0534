//! What a 200 must not show: an object of another unit in a secretary's lists and trees.

use serde_json::Value;

use super::matrix::*;
use super::world::*;
use crate::helpers::*;

pub(super) fn ids_of(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn units_of(body: &Value) -> Vec<Option<String>> {
    body["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["unit_id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Every unit id of a tree view.
pub(super) fn tree_ids(nodes: &Value, out: &mut Vec<String>) {
    for n in nodes.as_array().into_iter().flatten() {
        if let Some(i) = n["id"].as_str() {
            out.push(i.to_string());
        }
        tree_ids(&n["children"], out);
    }
}

/// The field a 400 of the table names: the unit asked for, outside the caller's subtree (or
/// the missing upgrade of the live socket).
pub(super) fn refused_field(r: &Row) -> &'static str {
    match r.path {
        "/api/v1/admin/units" => "parent_id",
        "/api/v1/ws" => "upgrade",
        // The post of unit A does not exist for the secretary of B.
        "/api/v1/admin/disclosures" => "post_id",
        _ => "unit_id",
    }
}

/// Where cheap, that an answer with the expected status is the expected one: a 400 names the
/// field that makes it one; a success shows the caller what is theirs and nothing else.
pub(super) fn check_content(w: &World, r: &Row, c: Caller, resp: &Resp) -> Option<String> {
    if resp.status == 400 {
        let field = refused_field(r);
        let fields = resp.detail_fields();
        return (!fields.iter().any(|f| f == field))
            .then(|| format!("does not name {field} but {fields:?}"));
    }
    if !resp.status.is_success() {
        return None;
    }
    let outside = c == Caller::SecOut;
    let a = Some(w.a.clone());
    let contains_a_unit = || units_of(&resp.body).contains(&a);
    let own = |wanted: &str, has: bool| -> Option<String> {
        match (outside, has) {
            (true, true) => Some(format!("lists {wanted} of unit A")),
            (false, false) => Some(format!("does not list {wanted}")),
            _ => None,
        }
    };
    match (r.method, r.path) {
        ("GET", "/api/v1/admin/broadcasts") => {
            if outside {
                let ids = ids_of(&resp.body);
                let listed = ids.contains(&w.sent) || ids.contains(&w.scheduled);
                own("a broadcast", listed || contains_a_unit())
            } else {
                own("A's sent broadcast", ids_of(&resp.body).contains(&w.sent))
            }
        }
        ("GET", "/api/v1/admin/posts") => {
            if outside {
                own("a post", contains_a_unit())
            } else {
                own("A's post", ids_of(&resp.body).contains(&w.post))
            }
        }
        ("GET", "/api/v1/admin/meetings") => {
            if outside {
                own("a meeting", contains_a_unit())
            } else {
                own("A's meeting", ids_of(&resp.body).contains(&w.meeting))
            }
        }
        ("GET", "/api/v1/admin/meeting-series") => {
            if outside {
                own("a series", contains_a_unit())
            } else {
                own("A's series", ids_of(&resp.body).contains(&w.series))
            }
        }
        ("GET", "/api/v1/admin/members") => {
            if outside {
                own("a member", contains_a_unit())
            } else {
                own("A's member", ids_of(&resp.body).contains(&id(&w.member)))
            }
        }
        ("GET", "/api/v1/admin/units") => {
            let mut ids = vec![];
            tree_ids(&resp.body["items"], &mut ids);
            own("unit A", ids.contains(&w.a))
        }
        ("GET", "/api/v1/admin/meetings/summary") if outside => {
            let total: u64 = resp.body["kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| k["total"].as_u64().unwrap_or(0))
                .sum();
            (total > 0).then(|| format!("counts {total} meetings, none of them theirs"))
        }
        ("POST", "/api/v1/admin/members/import") => {
            let created = resp.body["created"].as_u64();
            let want = if outside { 0 } else { 1 };
            (created != Some(want)).then(|| format!("created {created:?} members, not {want}"))
        }
        ("GET", "/api/v1/meetings") => {
            let invited = matches!(c, Caller::Member | Caller::SecIn);
            let has = ids_of(&resp.body).contains(&w.meeting);
            (has != invited).then(|| format!("lists A's meeting: {has}; invited: {invited}"))
        }
        ("GET", "/api/v1/inbox") => {
            let has = ids_of(&resp.body).contains(&w.item);
            (has != (c == Caller::Member)).then(|| format!("lists the member's item: {has}"))
        }
        _ => None,
    }
}

pub(super) fn short(body: &Value) -> String {
    let s = body.to_string();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}
