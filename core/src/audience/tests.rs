//! Audience resolution without a database: the condition rendered to SQL, and the shape
//! rules of `validate`, which all decide before the one query it makes. That query (do the
//! `member_ids` exist?) runs against an in-memory SQLite.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbBackend, QueryTrait, Set};

use super::*;
use crate::CoreError;
use crate::auth::Role;
use crate::auth::password::Passwords;
use crate::auth::tokens::TokenKeys;
use crate::clock::SystemClock;
use crate::entities::units;
use crate::ports::memory_pubsub::MemoryPubSub;
use crate::ports::memory_queue::MemoryQueue;
use crate::ports::memory_rate_limit::MemoryRateLimiter;
use crate::ports::memory_throttle::MemoryThrottle;
use crate::settings::Settings;

fn unit(id: i64, parent: Option<i64>) -> units::Model {
    units::Model {
        id,
        name: format!("u{id}"),
        parent_id: parent,
        created_at: Utc::now(),
    }
}

/// 1 ─┬─ 2 ── 3
///    └─ 4
/// 5
fn tree() -> UnitTree {
    UnitTree::from_units(vec![
        unit(1, None),
        unit(2, Some(1)),
        unit(3, Some(2)),
        unit(4, Some(1)),
        unit(5, None),
    ])
}

/// The `WHERE` clause that selects the audience's members, as SQLite would be asked, with
/// the ids of every `unit_id IN (…)` sorted (a subtree is a set).
fn selects(a: &Audience) -> String {
    let sql = members::Entity::find()
        .filter(a.condition(&tree()))
        .build(DbBackend::Sqlite)
        .to_string();
    let (_, clause) = sql.split_once(" WHERE ").expect("a WHERE clause");
    sort_unit_lists(clause)
}

fn sort_unit_lists(clause: &str) -> String {
    const IN: &str = r#""members"."unit_id" IN ("#;
    let mut out = String::new();
    let mut rest = clause;
    while let Some(at) = rest.find(IN) {
        let (before, after) = rest.split_at(at + IN.len());
        let (list, tail) = after.split_once(')').expect("a closed list");
        let mut ids: Vec<i64> = list.split(", ").map(|x| x.parse().unwrap()).collect();
        ids.sort_unstable();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        out.push_str(before);
        out.push_str(&ids.join(", "));
        out.push(')');
        rest = tail;
    }
    out.push_str(rest);
    out
}

const ACTIVE: &str = r#""members"."active" = TRUE"#;
const TAGGED_YOUTH: &str =
    r#""members"."id" IN (SELECT "member_id" FROM "member_tags" WHERE "tag" IN ('青年'))"#;

#[test]
fn all_is_every_active_member_who_belongs_to_a_unit() {
    let all = Audience {
        all: true,
        ..Default::default()
    };
    assert_eq!(
        selects(&all),
        format!(r#"{ACTIVE} AND "members"."unit_id" IS NOT NULL"#)
    );
}

#[test]
fn a_unit_selects_its_whole_subtree_and_nothing_else() {
    let section = Audience {
        unit_ids: vec![2],
        ..Default::default()
    };
    assert_eq!(
        selects(&section),
        format!(r#"{ACTIVE} AND "members"."unit_id" IN (2, 3)"#)
    );
    let branch_and_root = Audience {
        unit_ids: vec![1, 5],
        ..Default::default()
    };
    assert_eq!(
        selects(&branch_and_root),
        format!(r#"{ACTIVE} AND "members"."unit_id" IN (1, 2, 3, 4, 5)"#)
    );
}

#[test]
fn roles_and_tags_select_by_role_and_by_any_of_the_tags() {
    let secretaries = Audience {
        roles: vec![Role::Secretary, Role::Admin],
        ..Default::default()
    };
    assert_eq!(
        selects(&secretaries),
        format!(r#"{ACTIVE} AND "members"."role" IN ('secretary', 'admin')"#)
    );
    let tagged = Audience {
        tags: vec!["青年".into(), "支委".into()],
        ..Default::default()
    };
    assert_eq!(
        selects(&tagged),
        format!(
            r#"{ACTIVE} AND "members"."id" IN (SELECT "member_id" FROM "member_tags" WHERE "tag" IN ('青年', '支委'))"#
        )
    );
}

#[test]
fn units_roles_and_tags_narrow_together_and_member_ids_add_people_on_top() {
    let a = Audience {
        unit_ids: vec![2],
        roles: vec![Role::Member],
        tags: vec!["青年".into()],
        member_ids: vec![7, 8],
        ..Default::default()
    };
    assert_eq!(
        selects(&a),
        format!(
            r#"{ACTIVE} AND (("members"."unit_id" IN (2, 3) AND "members"."role" IN ('member') AND {TAGGED_YOUTH}) OR "members"."id" IN (7, 8))"#
        )
    );
}

#[test]
fn member_ids_alone_select_those_people_if_active() {
    let people = Audience {
        member_ids: vec![7],
        ..Default::default()
    };
    assert_eq!(
        selects(&people),
        format!(r#"{ACTIVE} AND "members"."id" IN (7)"#)
    );
}

#[test]
fn a_secretarys_scope_cuts_every_audience_to_their_units() {
    let scoped = |a: Audience| Audience {
        scope_units: Some(vec![2, 3]),
        ..a
    };
    let cut = r#""members"."unit_id" IN (2, 3)"#;
    assert_eq!(
        selects(&scoped(Audience {
            all: true,
            ..Default::default()
        })),
        format!(r#"{ACTIVE} AND {cut} AND "members"."unit_id" IS NOT NULL"#)
    );
    // Named people outside the scope are cut too: the scope is ANDed with everything.
    assert_eq!(
        selects(&scoped(Audience {
            member_ids: vec![7],
            ..Default::default()
        })),
        format!(r#"{ACTIVE} AND {cut} AND "members"."id" IN (7)"#)
    );
}

#[test]
fn restrict_to_records_a_secretarys_units_sorted_and_leaves_an_admins_audience_whole() {
    let mut a = Audience::default();
    a.restrict_to(&Scope::Units(HashSet::from([3, 2])));
    assert_eq!(a.scope_units, Some(vec![2, 3]));
    let mut b = Audience::default();
    b.restrict_to(&Scope::All);
    assert_eq!(b.scope_units, None);
}

#[test]
fn a_meeting_selector_picks_its_invitees_by_answer_and_absence_while_scheduled() {
    let any_invitee = Audience {
        all: true,
        meeting: Some(MeetingSelector {
            meeting_id: 9,
            ..Default::default()
        }),
        ..Default::default()
    };
    // Exactly the invitees, with or without a unit (an admin invited by id gets the notice).
    assert_eq!(
        selects(&any_invitee),
        format!(
            r#"{ACTIVE} AND "members"."id" IN (SELECT "member_id" FROM "meeting_invitees" WHERE "meeting_id" = 9)"#
        )
    );
    let nudge = Audience {
        all: true,
        meeting: Some(MeetingSelector {
            meeting_id: 9,
            answers: vec![crate::meetings::Answer::None],
            absent_only: true,
            only_while_scheduled: true,
        }),
        ..Default::default()
    };
    assert_eq!(
        selects(&nudge),
        format!(
            r#"{ACTIVE} AND "members"."id" IN (SELECT "member_id" FROM "meeting_invitees" WHERE "meeting_id" = 9 AND "answer" IN ('none') AND ("attendance" IS NULL OR "attendance" = 'absent') AND "meeting_id" IN (SELECT "id" FROM "meetings" WHERE "id" = 9 AND "status" = 'scheduled'))"#
        )
    );
}

#[test]
fn a_survey_selector_picks_its_participants_or_only_those_yet_to_answer() {
    let mut a = Audience {
        all: true,
        survey: Some(crate::audience::SurveySelector {
            survey_id: 4,
            unanswered_only: false,
        }),
        ..Default::default()
    };
    assert_eq!(
        selects(&a),
        format!(
            r#"{ACTIVE} AND "members"."id" IN (SELECT "member_id" FROM "survey_participants" WHERE "survey_id" = 4)"#
        )
    );
    if let Some(s) = a.survey.as_mut() {
        s.unanswered_only = true;
    }
    assert_eq!(
        selects(&a),
        format!(
            r#"{ACTIVE} AND "members"."id" IN (SELECT "member_id" FROM "survey_participants" WHERE "survey_id" = 4 AND "answered" = FALSE)"#
        )
    );
}

/// A `Core` whose database is not connected: `validate` must decide without it (asking
/// would panic).
fn offline_core() -> Core {
    let settings = Settings::from_lookup(|_| None).expect("defaults are valid");
    Core {
        db: DatabaseConnection::default(),
        clock: Arc::new(SystemClock),
        queue: Arc::new(MemoryQueue::new()),
        pubsub: Arc::new(MemoryPubSub::new()),
        tokens: TokenKeys::new(secrecy::ExposeSecret::expose_secret(
            &settings.auth.jwt_secret,
        ))
        .unwrap(),
        login: None,
        wecom_sign_in: None,
        push: None,
        rate_limiter: Arc::new(MemoryRateLimiter::new()),
        throttle: Arc::new(MemoryThrottle::new()),
        passwords: Arc::new(Passwords::default()),
        db_health: Arc::new(crate::db::DbHealth::new()),
        sessions: Arc::default(),
        headers: Arc::default(),
        pages: Arc::default(),
        settings,
    }
}

/// The fields `validate` names, or `None` when it accepts the audience.
async fn refused(a: Audience) -> Option<Vec<String>> {
    refused_in(a, &tree()).await
}

async fn refused_in(mut a: Audience, tree: &UnitTree) -> Option<Vec<String>> {
    match a.validate(&offline_core(), tree).await {
        Ok(()) => None,
        Err(CoreError::Validation { details, .. }) => {
            Some(details.into_iter().map(|d| d.field).collect())
        }
        Err(e) => panic!("not a validation error: {e:?}"),
    }
}

#[tokio::test]
async fn all_with_any_other_selector_is_refused() {
    for other in [
        Audience {
            unit_ids: vec![1],
            ..Default::default()
        },
        Audience {
            roles: vec![Role::Admin],
            ..Default::default()
        },
        Audience {
            tags: vec!["青年".into()],
            ..Default::default()
        },
        Audience {
            member_ids: vec![7],
            ..Default::default()
        },
    ] {
        let a = Audience { all: true, ..other };
        assert_eq!(
            refused(a.clone()).await,
            Some(vec!["audience".to_string()]),
            "{a:?}"
        );
    }
}

#[tokio::test]
async fn nothing_selected_is_refused_and_blank_tags_select_nothing() {
    assert_eq!(
        refused(Audience::default()).await,
        Some(vec!["audience".to_string()])
    );
    let blank = Audience {
        tags: vec!["  ".into(), String::new()],
        ..Default::default()
    };
    assert_eq!(refused(blank).await, Some(vec!["audience".to_string()]));
}

#[tokio::test]
async fn too_many_or_too_long_tags_are_refused() {
    let many = Audience {
        tags: (0..=MAX_TAGS).map(|i| format!("t{i}")).collect(),
        ..Default::default()
    };
    assert_eq!(refused(many).await, Some(vec!["audience.tags".to_string()]));
    let enough = Audience {
        tags: (0..MAX_TAGS).map(|i| format!("t{i}")).collect(),
        ..Default::default()
    };
    assert_eq!(refused(enough).await, None);
    // 32 characters is the limit, counted in characters, not bytes.
    let long = Audience {
        tags: vec!["青".repeat(33)],
        ..Default::default()
    };
    assert_eq!(refused(long).await, Some(vec!["audience.tags".to_string()]));
    let longest = Audience {
        tags: vec!["青".repeat(32)],
        ..Default::default()
    };
    assert_eq!(refused(longest).await, None);
}

#[tokio::test]
async fn units_must_exist_and_be_at_most_five_hundred() {
    let unknown = Audience {
        unit_ids: vec![2, 42],
        ..Default::default()
    };
    assert_eq!(
        refused(unknown).await,
        Some(vec!["audience.unit_ids".to_string()])
    );
    // In a tree of 501 units, every one exists: only the count is wrong.
    let big = UnitTree::from_units(
        (1..=i64::try_from(MAX_UNITS).unwrap() + 1)
            .map(|i| unit(i, None))
            .collect(),
    );
    let all_of_them = Audience {
        unit_ids: (1..=i64::try_from(MAX_UNITS).unwrap() + 1).collect(),
        ..Default::default()
    };
    assert_eq!(
        refused_in(all_of_them, &big).await,
        Some(vec!["audience.unit_ids".to_string()])
    );
    let five_hundred = Audience {
        unit_ids: (1..=i64::try_from(MAX_UNITS).unwrap()).collect(),
        ..Default::default()
    };
    assert_eq!(refused_in(five_hundred, &big).await, None);
}

#[tokio::test]
async fn more_than_ten_thousand_member_ids_are_refused_before_the_database_is_asked() {
    let crowd = Audience {
        member_ids: (1..=i64::try_from(MAX_MEMBERS).unwrap() + 1).collect(),
        ..Default::default()
    };
    assert_eq!(
        refused(crowd).await,
        Some(vec!["audience.member_ids".to_string()])
    );
}

#[tokio::test]
async fn validate_cleans_the_audience_it_accepts() {
    let mut a = Audience {
        unit_ids: vec![2, 2, 4],
        roles: vec![Role::Member, Role::Member, Role::Admin],
        tags: vec![" 青年 ".into(), "青年".into(), "".into(), "支委".into()],
        ..Default::default()
    };
    a.validate(&offline_core(), &tree()).await.unwrap();
    assert_eq!(a.unit_ids, vec![2, 4]);
    assert_eq!(a.roles, vec![Role::Member, Role::Admin]);
    assert_eq!(a.tags, vec!["青年".to_string(), "支委".to_string()]);
}

#[tokio::test]
async fn member_ids_must_name_members_that_exist() {
    // The one check that needs the database: an in-memory SQLite with the schema.
    let mut core = offline_core();
    let opts = crate::db::DbOptions {
        max_connections: Some(1),
        ..Default::default()
    };
    core.db = crate::db::connect("sqlite::memory:", &opts).await.unwrap();
    crate::db::migrate(&core.db).await.unwrap();
    let now = Utc::now();
    let zhang = members::ActiveModel {
        name: Set("张三".into()),
        role: Set(Role::Member),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await
    .unwrap()
    .id;
    let mut known = Audience {
        member_ids: vec![zhang, zhang],
        ..Default::default()
    };
    known.validate(&core, &tree()).await.unwrap();
    assert_eq!(known.member_ids, vec![zhang], "deduplicated");
    let mut unknown = Audience {
        member_ids: vec![zhang, zhang + 1],
        ..Default::default()
    };
    match unknown.validate(&core, &tree()).await {
        Err(CoreError::Validation { details, .. }) => {
            let fields: Vec<&str> = details.iter().map(|d| d.field.as_str()).collect();
            assert_eq!(fields, vec!["audience.member_ids"]);
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}
