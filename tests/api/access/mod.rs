//! The access matrix: every operation of the served OpenAPI document, called as each kind of
//! caller on real objects, checked against the table below, which is `docs/authorization.md`
//! written out route by route. A route added without a row fails this test, and so does a row
//! whose route is gone.
//!
//! The callers: no token; a plain member of unit A; the secretary of A, where every object
//! under test lives; the secretary of B, A's sibling under R (A's objects are outside their
//! subtree, so they do not exist for them); the bootstrap admin, who belongs to no unit and so
//! is invited to no meeting.
//!
//! Every cell sends a valid request with real ids, so that its status says who may do it, not
//! what was wrong with the body. A call that changes something gets a fresh object of its own,
//! made by the admin before any cell runs, so that the cells do not depend on their order.
//! Check-in, attendance by hand, minutes and make-up study need a meeting that has begun or
//! ended: their cells run in a second phase, once the test clock has moved on.

use std::collections::BTreeSet;

use chrono::Duration;
use reqwest::Method;

mod calls;
mod content;
mod matrix;
mod pages;
mod world;

use calls::*;
use content::*;
use matrix::*;
use world::*;

/// Runs the cells of `rows`: every request is built (fresh objects made, sent broadcasts
/// delivered) before the first one is sent.
async fn run(w: &World, rows: &[&Row], problems: &mut Vec<String>) -> usize {
    let mut calls = vec![];
    for r in rows {
        for (i, c) in CALLERS.into_iter().enumerate() {
            calls.push((*r, c, r.expect[i], prepare(w, r, c).await));
        }
    }
    w.app.drain().await;
    for (r, c, expected, call) in &calls {
        let resp = send(w, r.method, call).await;
        let got = resp.status.as_u16();
        if got != *expected {
            problems.push(format!(
                "{} {} as {c:?}: expected {expected}, got {got} ({})",
                r.method,
                r.path,
                short(&resp.body)
            ));
        } else if let Some(p) = check_content(w, r, *c, &resp) {
            problems.push(format!(
                "{} {} as {c:?}: {expected} as expected, but it {p} ({})",
                r.method,
                r.path,
                short(&resp.body)
            ));
        }
    }
    calls.len()
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn every_operation_as_every_caller_matches_the_access_matrix() {
    let mut w = world().await;
    let mut problems = vec![];

    // The operations of the served document, and the table's.
    let doc = w
        .app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, 200, "{:?}", doc.body);
    let mut served = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                served.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    let mut declared = BTreeSet::new();
    for r in MATRIX {
        let key = (r.method.to_string(), r.path.to_string());
        assert!(declared.insert(key), "{} {} has two rows", r.method, r.path);
    }
    for (m, p) in served.difference(&declared) {
        problems.push(format!("new route {m} {p} has no row in the access matrix"));
    }
    for (m, p) in declared.difference(&served) {
        problems.push(format!(
            "the access matrix has a row for {m} {p}, which the OpenAPI document lacks"
        ));
    }
    let tested: Vec<&Row> = MATRIX
        .iter()
        .filter(|r| served.contains(&(r.method.to_string(), r.path.to_string())))
        .collect();
    let (late, early): (Vec<&Row>, Vec<&Row>) =
        tested.into_iter().partition(|r| LATE.contains(&r.path));

    let mut cells = run(&w, &early, &mut problems).await;

    // The late meetings have begun (check-in is open) or ended (minutes, make-up); every
    // token has expired meanwhile.
    w.app.clock.set(t0() + Duration::minutes(PHASE_TWO_MINUTES));
    w.relogin().await;
    cells += run(&w, &late, &mut problems).await;

    assert!(
        problems.is_empty(),
        "{} of {cells} cells of {} operations differ from the access matrix:\n{}",
        problems.len(),
        served.len(),
        problems.join("\n")
    );
}
