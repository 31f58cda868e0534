//! Roster import from CSV: `name,unit,role,tags,phone,wecom_userid` (tags separated by `;`).
//! Each line stands alone: a bad line is reported with its number and the rest are imported.
//! An existing member is matched by phone, else WeCom user id, else name within the unit.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::members::{self, MemberInput, MemberPatch};
use super::tree::UnitTree;
use crate::Core;
use crate::auth::{Actor, Role, Scope};
use crate::entities::members as member_rows;
use crate::error::{CoreError, CoreResult};

pub const MAX_LINES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
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
fn resolve_unit(tree: &UnitTree, scope: &Scope, raw: &str) -> Result<i64, String> {
    if raw.chars().count() > 100 {
        return Err("is longer than any unit name (100 characters)".into());
    }
    if let Ok(id) = raw.parse::<i64>()
        && tree.contains(id)
        && scope.owns(Some(id))
    {
        return Ok(id);
    }
    let matches: Vec<i64> = tree
        .units
        .values()
        .filter(|u| u.name == raw && scope.owns(Some(u.id)))
        .map(|u| u.id)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("unit {raw:?} does not exist")),
        _ => Err(format!("unit name {raw:?} is ambiguous; use the unit's id")),
    }
}

pub async fn import_csv(core: &Core, actor: &Actor, body: &[u8]) -> CoreResult<ImportReport> {
    crate::access::require_manager(actor)?;
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
    // whole, never half imported (the body is at most 2 MiB, so this is bounded).
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
    for (n, rec) in records.into_iter().enumerate() {
        let (line, rec) = match rec {
            Ok(r) => (r.position().map_or(n as u64 + 2, csv::Position::line), r),
            Err(e) => {
                let line = e.position().map_or(n as u64 + 2, csv::Position::line);
                report.errors.push(LineError {
                    line,
                    message: format!("unreadable line: {e}"),
                });
                continue;
            }
        };
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match import_line(core, actor, &tree, &cols, &rec).await {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(message) => report.errors.push(LineError { line, message }),
        }
    }
    Ok(report)
}

/// Imports one line; `Ok(true)` when a member was created, `Ok(false)` when one was updated.
async fn import_line(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    cols: &Columns,
    rec: &csv::StringRecord,
) -> Result<bool, String> {
    let describe = |e: CoreError| match e {
        CoreError::Validation { message, .. } => message,
        other => other.to_string(),
    };
    let name = field(rec, Some(cols.name)).ok_or("name: must not be empty")?;
    let unit_raw = field(rec, Some(cols.unit)).ok_or("unit: must not be empty")?;
    let unit_id =
        resolve_unit(tree, &tree.scope_of(actor), &unit_raw).map_err(|e| format!("unit: {e}"))?;
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

    let existing = find_existing(core, &input).await.map_err(describe)?;
    if let Some(m) = existing {
        if !tree.scope_of(actor).allows_unit(m.unit_id) {
            return Err("the matching member is outside the units you manage".into());
        }
        if m.id == actor.member_id {
            return Err("this line matches your own account; change it in the member page".into());
        }
        let patch = MemberPatch {
            name: Some(input.name),
            unit_id: input.unit_id,
            role: Some(role),
            tags: Some(input.tags),
            phone: Some(input.phone),
            wecom_userid: Some(input.wecom_userid),
            active: None,
        };
        members::patch(core, actor, m.id, patch, "import")
            .await
            .map_err(describe)?;
        Ok(false)
    } else {
        members::insert(core, actor, &input, "import")
            .await
            .map_err(describe)?;
        Ok(true)
    }
}

async fn find_existing(core: &Core, input: &MemberInput) -> CoreResult<Option<member_rows::Model>> {
    let q = member_rows::Entity::find();
    let found = if let Some(phone) = &input.phone {
        q.filter(member_rows::Column::Phone.eq(phone.clone()))
            .one(&core.db)
            .await?
    } else if let Some(w) = &input.wecom_userid {
        q.filter(member_rows::Column::WecomUserid.eq(w.clone()))
            .one(&core.db)
            .await?
    } else {
        q.filter(member_rows::Column::Name.eq(input.name.clone()))
            .filter(member_rows::Column::UnitId.eq(input.unit_id))
            .one(&core.db)
            .await?
    };
    Ok(found)
}
