//! Roster import from CSV: `name,unit,role,tags,phone,wecom_userid` (tags separated by `;`).
//!
//! Set-based, in three steps, so that a district roster of 100,000 lines takes seconds:
//! 1. **Read and check the whole file** in memory: every line is validated (fields, the unit by
//!    name or id within the actor's units, the role the actor may give); a line that repeats an
//!    earlier line's person (the same phone, else WeCom user id, else name in the unit) is an
//!    error too. Every bad line is reported with its number; the others go on.
//! 2. **Match existing members in bulk** (a few `IN (…)` queries): by phone, else WeCom user id,
//!    else name within the unit, as a person is matched by hand. A match outside the actor's
//!    units, the actor's own account, or a member whose role the actor may not change is an
//!    error of that line. A match whose fields are all the same is `unchanged`.
//! 3. **Write in one transaction**: new members with multi-row inserts (each with a fresh
//!    invite code), changed members with multi-row upserts on their ids (on PostgreSQL, both as
//!    one JSON parameter per 10,000 rows: `import_pg`), their tags in bulk, and one audit entry
//!    per created or changed member (`member.create` / `member.update`, `via: import`), appended
//!    to the chain in one go. All of it commits, or nothing does.
//!
//! A file over [`MAX_LINES`] lines is refused whole, before anything is read from the database.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use serde_json::json;

use super::import_pg;
use super::members::{self, MemberInput};
use super::tree::UnitTree;
use crate::Core;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::secrets::{invite_code, sha256_hex};
use crate::auth::{Actor, Role, Scope};
use crate::entities::{member_tags, members as member_rows};
use crate::error::{CoreError, CoreResult};

/// Most lines in one import: a district's roster.
pub const MAX_LINES: usize = 100_000;
/// Rows per multi-row insert or upsert (SQLite binds at most 32,766 values; a member row has 14).
const ROWS_PER_STATEMENT: usize = 2_000;
/// Values per `IN (…)` lookup: fewer, larger lookups (a round trip each) than `db::IN_CHUNK`.
const LOOKUP_CHUNK: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    /// Lines that matched a member whose fields were already the same.
    pub unchanged: u64,
    pub errors: Vec<LineError>,
}

struct Columns {
    name: usize,
    unit: usize,
    role: Option<usize>,
    tags: Option<usize>,
    phone: Option<usize>,
    wecom: Option<usize>,
}

fn columns(header: &csv::StringRecord) -> CoreResult<Columns> {
    let find = |n: &str| {
        header.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(n)
        })
    };
    let missing =
        |n: &str| CoreError::invalid("header", format!("the CSV header must have a {n:?} column"));
    Ok(Columns {
        name: find("name").ok_or_else(|| missing("name"))?,
        unit: find("unit").ok_or_else(|| missing("unit"))?,
        role: find("role"),
        tags: find("tags"),
        phone: find("phone"),
        wecom: find("wecom_userid"),
    })
}

fn field(rec: &csv::StringRecord, i: Option<usize>) -> Option<String> {
    i.and_then(|i| rec.get(i))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Finds a unit by id or by a name that is unique among the units the actor manages (a
/// secretary's import sees only their subtree: other units do not exist for them).
fn resolve_unit(
    tree: &UnitTree,
    scope: &Scope,
    by_name: &HashMap<&str, Vec<i64>>,
    raw: &str,
) -> Result<i64, String> {
    if raw.chars().count() > 100 {
        return Err("is longer than any unit name (100 characters)".into());
    }
    if let Ok(id) = raw.parse::<i64>()
        && tree.contains(id)
        && scope.owns(Some(id))
    {
        return Ok(id);
    }
    match by_name.get(raw).map(Vec::as_slice) {
        Some([one]) => Ok(*one),
        None | Some([]) => Err(format!("unit {raw:?} does not exist")),
        Some(_) => Err(format!("unit name {raw:?} is ambiguous; use the unit's id")),
    }
}

/// A line that passed the checks of step 1.
struct Line {
    line: u64,
    input: MemberInput,
    role: Role,
}

/// How a line names its person: what it is matched by, in the file and in the roster.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Phone(String),
    Wecom(String),
    NameInUnit(String, i64),
}

impl Key {
    fn of(input: &MemberInput) -> Self {
        if let Some(p) = &input.phone {
            Key::Phone(p.clone())
        } else if let Some(w) = &input.wecom_userid {
            Key::Wecom(w.clone())
        } else {
            Key::NameInUnit(input.name.clone(), input.unit_id.unwrap_or_default())
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Key::Phone(_) => "phone",
            Key::Wecom(_) => "WeCom user id",
            Key::NameInUnit(..) => "name in the same unit",
        }
    }
}

/// The file as text: UTF-8 (with or without a byte-order mark), or else GB18030, the superset of
/// GBK in which Excel on a Chinese Windows saves "CSV (逗号分隔)".
fn decode(body: &[u8]) -> CoreResult<std::borrow::Cow<'_, str>> {
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok(s.into());
    }
    let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(body);
    if malformed {
        return Err(CoreError::invalid(
            "body",
            "the file is neither UTF-8 nor GBK text: save it from the spreadsheet as CSV",
        ));
    }
    Ok(text)
}

pub async fn import_csv(core: &Core, actor: &Actor, body: &[u8]) -> CoreResult<ImportReport> {
    access::require_manager(actor)?;
    let digest = sha256_hex(&String::from_utf8_lossy(body));
    let text = decode(body)?;
    let body = text.as_bytes();
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| CoreError::invalid("body", format!("not a readable CSV file: {e}")))?
        .clone();
    let cols = columns(&header)?;
    // Read the whole file before writing anything: a file over the limit is refused as a
    // whole, never half imported.
    let records: Vec<_> = reader.records().collect();
    if records.len() > MAX_LINES {
        return Err(CoreError::invalid(
            "body",
            format!(
                "the file has {} lines; at most {MAX_LINES} lines per import: split it; nothing was imported",
                records.len()
            ),
        ));
    }
    let tree = UnitTree::load(&core.db).await?;
    let mut report = ImportReport::default();

    // 1. Every line checked, in memory.
    let lines = check_lines(&tree, actor, &cols, records, &mut report.errors);

    // 2. Matched against the roster in bulk.
    let matched = match_existing(core, &lines).await?;
    let scope = tree.scope_of(actor);
    let mut creates: Vec<&Line> = Vec::new();
    let mut updates: Vec<(&Line, &member_rows::Model)> = Vec::new();
    let current_tags = tags_of_matched(core, &matched).await?;
    // Two lines with different keys (a phone on one, none on the other) may name one member.
    let mut matched_by: HashMap<i64, u64> = HashMap::new();
    for l in &lines {
        let Some(m) = matched.get(&Key::of(&l.input)) else {
            creates.push(l);
            continue;
        };
        if let Some(first) = matched_by.get(&m.id) {
            report.errors.push(LineError {
                line: l.line,
                message: format!(
                    "matches the same member as line {first}; a person is listed once"
                ),
            });
            continue;
        }
        matched_by.insert(m.id, l.line);
        match may_update(actor, &scope, m, l.role) {
            Err(message) => report.errors.push(LineError {
                line: l.line,
                message,
            }),
            Ok(()) if same(m, current_tags.get(&m.id), l) => report.unchanged += 1,
            Ok(()) => updates.push((l, m)),
        }
    }

    // 3. Written in one transaction.
    write(core, actor, &creates, &updates, &digest).await?;
    report.created = creates.len() as u64;
    report.updated = updates.len() as u64;
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}

/// Step 1: each record parsed and validated; the bad ones (and repeats of an earlier line's
/// person) into `errors`.
fn check_lines(
    tree: &UnitTree,
    actor: &Actor,
    cols: &Columns,
    records: Vec<Result<csv::StringRecord, csv::Error>>,
    errors: &mut Vec<LineError>,
) -> Vec<Line> {
    let scope = tree.scope_of(actor);
    let mut by_name: HashMap<&str, Vec<i64>> = HashMap::new();
    for u in tree.units.values().filter(|u| scope.owns(Some(u.id))) {
        by_name.entry(u.name.as_str()).or_default().push(u.id);
    }
    let mut seen: HashMap<Key, u64> = HashMap::new();
    let mut lines = Vec::with_capacity(records.len());
    for (n, rec) in records.into_iter().enumerate() {
        let fallback = n as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(LineError {
                    line: e.position().map_or(fallback, csv::Position::line),
                    message: format!("unreadable line: {e}"),
                });
                continue;
            }
        };
        let line = rec.position().map_or(fallback, csv::Position::line);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match check_line(tree, actor, &scope, &by_name, cols, &rec) {
            Err(message) => errors.push(LineError { line, message }),
            Ok((input, role)) => {
                let key = Key::of(&input);
                if let Some(first) = seen.get(&key) {
                    errors.push(LineError {
                        line,
                        message: format!(
                            "repeats line {first} (the same {}); a person is listed once",
                            key.describe()
                        ),
                    });
                    continue;
                }
                seen.insert(key, line);
                lines.push(Line { line, input, role });
            }
        }
    }
    lines
}

/// One line's fields, validated; the role it gives.
fn check_line(
    tree: &UnitTree,
    actor: &Actor,
    scope: &Scope,
    by_name: &HashMap<&str, Vec<i64>>,
    cols: &Columns,
    rec: &csv::StringRecord,
) -> Result<(MemberInput, Role), String> {
    let name = field(rec, Some(cols.name)).ok_or("name: must not be empty")?;
    let unit_raw = field(rec, Some(cols.unit)).ok_or("unit: must not be empty")?;
    let unit_id =
        resolve_unit(tree, scope, by_name, &unit_raw).map_err(|e| format!("unit: {e}"))?;
    let role = match field(rec, cols.role) {
        None => Role::Member,
        Some(r) => r.parse::<Role>().map_err(|e| format!("role: {e}"))?,
    };
    let tags: Vec<String> = field(rec, cols.tags)
        .map(|t| t.split([';', '；']).map(str::to_string).collect())
        .unwrap_or_default();
    let input = MemberInput {
        name,
        unit_id: Some(unit_id),
        role: Some(role),
        tags,
        phone: field(rec, cols.phone),
        wecom_userid: field(rec, cols.wecom),
    };
    let input = members::validate_input(&input).map_err(describe)?;
    members::check_manage(tree, actor, input.unit_id, role).map_err(describe)?;
    Ok((input, role))
}

fn describe(e: CoreError) -> String {
    match e {
        CoreError::Validation { message, .. } => message,
        other => other.to_string(),
    }
}

/// Step 2: the existing member each line names, by its key (a few queries for the whole file).
/// Several members with the same phone (the roster does not forbid it): the oldest.
async fn match_existing(
    core: &Core,
    lines: &[Line],
) -> CoreResult<HashMap<Key, member_rows::Model>> {
    let mut phones = HashSet::new();
    let mut wecoms = HashSet::new();
    let mut names = HashSet::new();
    for l in lines {
        match Key::of(&l.input) {
            Key::Phone(p) => {
                phones.insert(p);
            }
            Key::Wecom(w) => {
                wecoms.insert(w);
            }
            Key::NameInUnit(n, _) => {
                names.insert(n);
            }
        }
    }
    let mut found: HashMap<Key, member_rows::Model> = HashMap::new();
    let ordered = || member_rows::Entity::find().order_by_asc(member_rows::Column::Id);
    for chunk in phones.into_iter().collect::<Vec<_>>().chunks(LOOKUP_CHUNK) {
        for m in ordered()
            .filter(member_rows::Column::Phone.is_in(chunk.iter().cloned()))
            .all(&core.db)
            .await?
        {
            if let Some(p) = m.phone.clone() {
                found.entry(Key::Phone(p)).or_insert(m);
            }
        }
    }
    for chunk in wecoms.into_iter().collect::<Vec<_>>().chunks(LOOKUP_CHUNK) {
        for m in ordered()
            .filter(member_rows::Column::WecomUserid.is_in(chunk.iter().cloned()))
            .all(&core.db)
            .await?
        {
            if let Some(w) = m.wecom_userid.clone() {
                found.entry(Key::Wecom(w)).or_insert(m);
            }
        }
    }
    for chunk in names.into_iter().collect::<Vec<_>>().chunks(LOOKUP_CHUNK) {
        for m in ordered()
            .filter(member_rows::Column::Name.is_in(chunk.iter().cloned()))
            .all(&core.db)
            .await?
        {
            if let Some(u) = m.unit_id {
                found.entry(Key::NameInUnit(m.name.clone(), u)).or_insert(m);
            }
        }
    }
    Ok(found)
}

/// The tags of the matched members, read by their units (one query per few thousand units,
/// rather than one per few hundred members: a roster names whole units), and by id for those
/// without a unit.
async fn tags_of_matched(
    core: &Core,
    matched: &HashMap<Key, member_rows::Model>,
) -> CoreResult<HashMap<i64, Vec<String>>> {
    let ids: HashSet<i64> = matched.values().map(|m| m.id).collect();
    let units: Vec<i64> = matched
        .values()
        .filter_map(|m| m.unit_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in units.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(i64, String)> = member_tags::Entity::find()
            .select_only()
            .column(member_tags::Column::MemberId)
            .column(member_tags::Column::Tag)
            .join(JoinType::InnerJoin, member_tags::Relation::Member.def())
            .filter(member_rows::Column::UnitId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&core.db)
            .await?;
        for (m, t) in rows {
            if ids.contains(&m) {
                out.entry(m).or_default().push(t);
            }
        }
    }
    let loose: Vec<i64> = matched
        .values()
        .filter(|m| m.unit_id.is_none())
        .map(|m| m.id)
        .collect();
    if !loose.is_empty() {
        out.extend(members::tags_of(&core.db, &loose).await?);
    }
    Ok(out)
}

/// Whether the actor may change matched member `m` as a line says (the checks of
/// `members::patch`, the line's unit and role already checked in step 1).
fn may_update(
    actor: &Actor,
    scope: &Scope,
    m: &member_rows::Model,
    role: Role,
) -> Result<(), String> {
    if !scope.allows_unit(m.unit_id) {
        return Err("the matching member is outside the units you manage".into());
    }
    if m.id == actor.member_id {
        return Err("this line matches your own account; change it in the member page".into());
    }
    access::check_role_change(actor, m.role, role).map_err(describe)
}

/// Whether the line says nothing new about `m`.
fn same(m: &member_rows::Model, tags: Option<&Vec<String>>, l: &Line) -> bool {
    let mut now: Vec<&String> = tags.map(|t| t.iter().collect()).unwrap_or_default();
    let mut wanted: Vec<&String> = l.input.tags.iter().collect();
    now.sort();
    wanted.sort();
    m.name == l.input.name
        && m.unit_id == l.input.unit_id
        && m.role == l.role
        && m.phone == l.input.phone
        && m.wecom_userid == l.input.wecom_userid
        && now == wanted
}

/// Step 3: everything in one transaction, with one audit entry per member.
async fn write(
    core: &Core,
    actor: &Actor,
    creates: &[&Line],
    updates: &[(&Line, &member_rows::Model)],
    digest: &str,
) -> CoreResult<()> {
    if creates.is_empty() && updates.is_empty() {
        return Ok(());
    }
    let now = core.now();
    let codes = fresh_invite_codes(core, creates.len()).await?;
    let txn = crate::db::begin_write(&core.db).await?;
    // What was checked (scope, role) was read before this transaction: the members to change
    // must still be as read, held until the commit, or nothing is written.
    let read: Vec<&member_rows::Model> = updates.iter().map(|(_, m)| *m).collect();
    if !unchanged_since_read(&txn, &read).await? {
        txn.rollback().await?;
        return Err(CoreError::Conflict(
            "members of this file changed while it was imported; nothing was imported: send it again"
                .into(),
        ));
    }
    let mut events = Vec::with_capacity(creates.len() + updates.len());
    let mut tag_rows: Vec<member_tags::ActiveModel> = Vec::new();

    let pg = txn.get_database_backend() == DbBackend::Postgres;
    let mut created_ids: Vec<i64> = Vec::with_capacity(creates.len());
    if pg {
        let rows: Vec<import_pg::NewMember> = creates
            .iter()
            .zip(&codes)
            .map(|(l, code)| import_pg::NewMember {
                name: &l.input.name,
                unit_id: l.input.unit_id,
                role: import_pg::role(l.role),
                phone: l.input.phone.as_deref(),
                wecom_userid: l.input.wecom_userid.as_deref(),
                invite_code: code,
                active: true,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let by_code: HashMap<String, i64> = import_pg::insert_members(&txn, &rows)
            .await?
            .into_iter()
            .collect();
        for code in &codes {
            created_ids.push(*by_code.get(code).ok_or_else(|| {
                CoreError::Internal("an imported member was not returned by the insert".into())
            })?);
        }
    }
    for (chunk, codes) in creates
        .chunks(ROWS_PER_STATEMENT)
        .zip(codes.chunks(ROWS_PER_STATEMENT))
        .filter(|_| !pg)
    {
        let rows = chunk
            .iter()
            .zip(codes)
            .map(|(l, code)| member_rows::ActiveModel {
                name: Set(l.input.name.clone()),
                unit_id: Set(l.input.unit_id),
                role: Set(l.role),
                phone: Set(l.input.phone.clone()),
                wecom_userid: Set(l.input.wecom_userid.clone()),
                invite_code: Set(Some(code.clone())),
                active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
        let inserted = member_rows::Entity::insert_many(rows)
            .exec_with_returning(&txn)
            .await?;
        // By invite code (unique), not by the order RETURNING happens to keep.
        let by_code: HashMap<String, i64> = inserted
            .into_iter()
            .filter_map(|m| m.invite_code.map(|c| (c, m.id)))
            .collect();
        for code in codes {
            created_ids.push(*by_code.get(code).ok_or_else(|| {
                CoreError::Internal("an imported member was not returned by the insert".into())
            })?);
        }
    }
    for (l, id) in creates.iter().zip(&created_ids) {
        if !pg {
            tag_rows.extend(l.input.tags.iter().map(|t| member_tags::ActiveModel {
                member_id: Set(*id),
                tag: Set(t.clone()),
            }));
        }
        events.push(
            Event::new("member.create")
                .target("member", id)
                .summary(json!({
                    "name": l.input.name,
                    "unit_id": l.input.unit_id,
                    "role": l.role.as_str(),
                    "tags": l.input.tags,
                    "via": "import",
                    "file_sha256": digest,
                })),
        );
    }

    // Changed members in bulk: each row written whole (the matched row with the line's
    // fields), as an upsert on its id, which exists: an update in effect.
    let mut changed_rows = Vec::with_capacity(updates.len());
    for (l, m) in updates {
        if !pg {
            let mut row: member_rows::ActiveModel = (*m).clone().into();
            row.name = Set(l.input.name.clone());
            row.unit_id = Set(l.input.unit_id);
            row.role = Set(l.role);
            row.phone = Set(l.input.phone.clone());
            row.wecom_userid = Set(l.input.wecom_userid.clone());
            row.updated_at = Set(now);
            // Every column set, so that the insert half of the upsert is a whole row.
            changed_rows.push(row.reset_all());
            tag_rows.extend(l.input.tags.iter().map(|t| member_tags::ActiveModel {
                member_id: Set(m.id),
                tag: Set(t.clone()),
            }));
        }
        events.push(
            Event::new("member.update")
                .target("member", m.id)
                .summary(update_summary(m, l, digest)),
        );
    }
    let updated_ids: Vec<i64> = updates.iter().map(|(_, m)| m.id).collect();
    if pg {
        let changed: Vec<import_pg::ChangedMember> = updates
            .iter()
            .map(|(l, m)| import_pg::ChangedMember {
                id: m.id,
                name: &l.input.name,
                unit_id: l.input.unit_id,
                role: import_pg::role(l.role),
                phone: l.input.phone.as_deref(),
                wecom_userid: l.input.wecom_userid.as_deref(),
                updated_at: now,
            })
            .collect();
        import_pg::update_members(&txn, &changed).await?;
        let tags: Vec<import_pg::Tag> = creates
            .iter()
            .zip(&created_ids)
            .map(|(l, id)| (l, *id))
            .chain(updates.iter().map(|(l, m)| (l, m.id)))
            .flat_map(|(l, id)| {
                l.input.tags.iter().map(move |t| import_pg::Tag {
                    member_id: id,
                    tag: t,
                })
            })
            .collect();
        import_pg::replace_tags(&txn, &updated_ids, &tags).await?;
    } else {
        let mut changed_rows = changed_rows.into_iter().peekable();
        while changed_rows.peek().is_some() {
            let chunk: Vec<_> = changed_rows.by_ref().take(ROWS_PER_STATEMENT).collect();
            member_rows::Entity::insert_many(chunk)
                .on_conflict(
                    OnConflict::column(member_rows::Column::Id)
                        .update_columns([
                            member_rows::Column::Name,
                            member_rows::Column::UnitId,
                            member_rows::Column::Role,
                            member_rows::Column::Phone,
                            member_rows::Column::WecomUserid,
                            member_rows::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        for chunk in updated_ids.chunks(LOOKUP_CHUNK) {
            member_tags::Entity::delete_many()
                .filter(member_tags::Column::MemberId.is_in(chunk.iter().copied()))
                .exec(&txn)
                .await?;
        }
        let mut tag_rows = tag_rows.into_iter().peekable();
        while tag_rows.peek().is_some() {
            let chunk: Vec<_> = tag_rows.by_ref().take(ROWS_PER_STATEMENT * 4).collect();
            member_tags::Entity::insert_many(chunk)
                .exec_without_returning(&txn)
                .await?;
        }
    }
    audit::append_many(&txn, now, &actor.into(), events).await?;
    txn.commit().await?;
    // Role or unit: sessions of changed members are checked again everywhere.
    let moved: Vec<i64> = updates
        .iter()
        .filter(|(l, m)| m.role != l.role || m.unit_id != l.input.unit_id)
        .map(|(_, m)| m.id)
        .collect();
    crate::auth::changes::members_changed(core, &moved).await;
    Ok(())
}

/// Whether the members `read` are still as they were read (locked until the commit on
/// PostgreSQL; on SQLite the write transaction already keeps every other writer out).
async fn unchanged_since_read(
    txn: &sea_orm::DatabaseTransaction,
    read: &[&member_rows::Model],
) -> CoreResult<bool> {
    use sea_orm::ConnectionTrait;
    let postgres = txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    for chunk in read.chunks(LOOKUP_CHUNK) {
        let mut q = member_rows::Entity::find()
            .filter(member_rows::Column::Id.is_in(chunk.iter().map(|m| m.id)));
        if postgres {
            q = q.lock_exclusive();
        }
        let now: HashMap<i64, member_rows::Model> =
            q.all(txn).await?.into_iter().map(|m| (m.id, m)).collect();
        if chunk.iter().any(|m| now.get(&m.id) != Some(*m)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What changed of `m`, as `members::patch` records it (a phone change says only that).
fn update_summary(m: &member_rows::Model, l: &Line, digest: &str) -> serde_json::Value {
    let mut changed = serde_json::Map::new();
    if m.name != l.input.name {
        changed.insert("name".into(), json!(l.input.name));
    }
    if m.unit_id != l.input.unit_id {
        changed.insert(
            "unit_id".into(),
            json!({"from": m.unit_id, "to": l.input.unit_id}),
        );
    }
    if m.role != l.role {
        changed.insert(
            "role".into(),
            json!({"from": m.role.as_str(), "to": l.role.as_str()}),
        );
    }
    changed.insert("tags".into(), json!(l.input.tags));
    if m.phone != l.input.phone {
        changed.insert("phone".into(), json!("changed"));
    }
    if m.wecom_userid != l.input.wecom_userid {
        changed.insert("wecom_userid".into(), json!(l.input.wecom_userid));
    }
    changed.insert("via".into(), json!("import"));
    changed.insert("file_sha256".into(), json!(digest));
    serde_json::Value::Object(changed)
}

/// `n` invite codes, distinct among themselves and from every code in use (codes are random:
/// the rare collision is drawn again). A member created meanwhile by someone else with the same
/// code makes the insert fail on the unique index, and the whole import with it (409): sending
/// it again succeeds.
async fn fresh_invite_codes(core: &Core, n: usize) -> CoreResult<Vec<String>> {
    let mut codes: Vec<String> = Vec::with_capacity(n);
    let mut taken: HashSet<String> = HashSet::with_capacity(n);
    let mut missing = n;
    for _ in 0..5 {
        let mut drawn = Vec::with_capacity(missing);
        while drawn.len() < missing {
            let c = invite_code();
            if taken.insert(c.clone()) {
                drawn.push(c);
            }
        }
        let mut in_use: HashSet<String> = HashSet::new();
        for chunk in drawn.chunks(LOOKUP_CHUNK) {
            in_use.extend(
                member_rows::Entity::find()
                    .filter(member_rows::Column::InviteCode.is_in(chunk.iter().cloned()))
                    .all(&core.db)
                    .await?
                    .into_iter()
                    .filter_map(|m| m.invite_code),
            );
        }
        codes.extend(drawn.into_iter().filter(|c| !in_use.contains(c)));
        missing = n - codes.len();
        if missing == 0 {
            return Ok(codes);
        }
    }
    Err(CoreError::Internal(
        "could not find free invite codes".into(),
    ))
}
