//! The store's staff, kept on the server and copied to every counter of the store.
//!
//! A change to a member (added, disabled, a new PIN) is made at one counter, online only:
//! it is put on the server first and written here only as the server kept it, so two
//! counters cannot give one name to two people or leave the store without a manager. The
//! sync worker pulls the other counters' changes, so signing in works offline with the
//! list as last pulled. Wrong-PIN counts and lock-outs stay at each counter.
//!
//! A member this counter made before it kept staff on the server (or before it was
//! enrolled) is sent once at the next sync. When the server has someone of that name
//! already, the same person was enrolled at several counters: this counter adopts the
//! server's member (its PIN wins) and drops its own.

use sqlx::Row;
use tillfund_core::StaffId;
use tillfund_core::protocol::{ErrorCode, StaffChangeRequest, StoreStaffBody};

use crate::client::{ClientError, ServerClient, TerminalCredentials};
use crate::counter::CounterError;
use crate::error_code::CounterCode;
use crate::staff::{MAX_STAFF, NAME_MAX_CHARS, Role};
use crate::store::{LocalStore, LocalStoreError};
use crate::sync::SyncError;

/// Pages of staff changes taken per round (each up to the server's 500), so a round stays
/// short; a store's 200 members fit in one.
const STAFF_PAGES_PER_ROUND_MAX: usize = 4;
const STAFF_CURSOR: &str = "staff_cursor";

/// What one staff round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffRound {
    /// Local members the server now keeps.
    pub pushed: usize,
    /// Local members dropped for the server's member of the same name.
    pub adopted: usize,
    /// Members changed here from the server's list.
    pub pulled: usize,
}

/// Sends the members only this counter knows, then pulls the store's changes.
pub async fn sync_staff(store: &LocalStore) -> Result<StaffRound, SyncError> {
    let profile = store.profile().await?.ok_or(SyncError::NotEnrolled)?;
    let credentials = profile.credentials()?;
    let client = store.server_client(&profile.server_url)?;
    let (pushed, adopted) = push_local_members(store, &client, &credentials).await?;
    let pulled = pull_staff(store, &client, &credentials).await?;
    Ok(StaffRound { pushed, adopted, pulled })
}

/// A member's whole record as it stands here, for the server.
pub(crate) struct LocalRecord {
    pub staff_id: StaffId,
    pub name: String,
    pub role: Role,
    pub pin_hash: String,
    pub active: bool,
}

impl LocalRecord {
    pub(crate) fn request(&self, first_of_store: bool) -> StaffChangeRequest {
        StaffChangeRequest {
            name: self.name.clone(),
            role: self.role.as_str().to_owned(),
            pin_hash: self.pin_hash.clone(),
            active: self.active,
            first_of_store,
        }
    }
}

pub(crate) async fn local_record(
    store: &LocalStore,
    staff_id: StaffId,
) -> Result<Option<LocalRecord>, LocalStoreError> {
    let row = sqlx::query("SELECT name, role, pin_hash, active FROM staff WHERE staff_id = ?")
        .bind(staff_id.to_string())
        .fetch_optional(store.pool())
        .await?;
    row.map(|row| {
        Ok(LocalRecord {
            staff_id,
            name: row.try_get("name")?,
            role: if row.try_get::<&str, _>("role")? == "manager" {
                Role::Manager
            } else {
                Role::Cashier
            },
            pin_hash: row.try_get("pin_hash")?,
            active: row.try_get::<i64, _>("active")? == 1,
        })
    })
    .transpose()
}

/// Puts `record` on the server and, once kept there, here. Refusals come back as the
/// server's codes; no answer as `staff_change_offline` (after which the change may still
/// have been kept: the next pull brings it either way).
pub(crate) async fn put_member(
    store: &LocalStore,
    record: &LocalRecord,
    first_of_store: bool,
) -> Result<(), CounterError> {
    let profile = store.profile().await?.ok_or(CounterError::NotEnrolled)?;
    let credentials = profile.credentials()?;
    let client = store.server_client(&profile.server_url)?;
    let sent =
        client.put_staff(&credentials, record.staff_id, &record.request(first_of_store)).await;
    match sent {
        Ok(kept) => {
            apply_members(store, std::slice::from_ref(&kept), None).await?;
            Ok(())
        }
        Err(error) => {
            // Whatever happened, show the store's list as the server has it now (a lost
            // answer may hide a kept change; a taken name may be this very change).
            if let Err(pull_error) = pull_staff(store, &client, &credentials).await {
                tracing::info!(%pull_error, "staff list not pulled after a refused change");
            }
            Err(match error {
                ClientError::Refused { .. } => CounterError::Server(error),
                ClientError::Unreachable(_) | ClientError::Unreadable(_) => CounterError::Invalid {
                    code: CounterCode::StaffChangeOffline,
                    message: "Staff are kept on the server for all the store's counters: \
                                  this change needs the server. Connect the counter and try \
                                  again; if the change reached the server it appears here \
                                  with the next sync."
                        .to_owned(),
                },
            })
        }
    }
}

/// Sends each member the server does not know yet; a name the store has already means
/// the same person enrolled at another counter, and the server's member is adopted.
async fn push_local_members(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
) -> Result<(usize, usize), SyncError> {
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT staff_id FROM staff WHERE server_sequence IS NULL AND push_refused IS NULL \
         ORDER BY created_at_ms LIMIT {MAX_STAFF}"
    ))
    .fetch_all(store.pool())
    .await
    .map_err(LocalStoreError::from)?;
    let (mut pushed, mut adopted) = (0, 0);
    for id in ids {
        let staff_id: StaffId =
            id.parse().map_err(|_| LocalStoreError::Corrupt(format!("staff id {id}")))?;
        let Some(record) = local_record(store, staff_id).await? else { continue };
        // A manager made with nobody signed in (before enrolment) joins only a store whose
        // staff are all this counter's own: never a manager beside the store's.
        let unvouched_manager = record.role == Role::Manager;
        match client.put_staff(credentials, staff_id, &record.request(unvouched_manager)).await {
            Ok(kept) => {
                apply_members(store, std::slice::from_ref(&kept), None).await?;
                pushed += 1;
            }
            Err(ClientError::Refused { code, .. })
                if code == ErrorCode::StaffNameTaken.as_str() =>
            {
                tracing::info!(name = %record.name, "adopting the store's member of this name");
                drop_local_member(store, staff_id).await?;
                adopted += 1;
            }
            Err(ClientError::Refused { code, message, .. }) => {
                tracing::warn!(name = %record.name, %code, %message, "member kept at this counter only");
                sqlx::query("UPDATE staff SET push_refused = ? WHERE staff_id = ?")
                    .bind(code)
                    .bind(staff_id.to_string())
                    .execute(store.pool())
                    .await
                    .map_err(LocalStoreError::from)?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok((pushed, adopted))
}

async fn drop_local_member(store: &LocalStore, staff_id: StaffId) -> Result<(), LocalStoreError> {
    sqlx::query("DELETE FROM staff WHERE staff_id = ? AND server_sequence IS NULL")
        .bind(staff_id.to_string())
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Pulls the store's staff changes since the cursor and applies them; returns how many.
pub(crate) async fn pull_staff(
    store: &LocalStore,
    client: &ServerClient,
    credentials: &TerminalCredentials,
) -> Result<usize, SyncError> {
    let mut pulled = 0;
    for _ in 0..STAFF_PAGES_PER_ROUND_MAX {
        let cursor: i64 =
            store.setting(STAFF_CURSOR).await?.and_then(|value| value.parse().ok()).unwrap_or(0);
        let page = client.staff_changes(credentials, cursor).await?;
        if page.changes.is_empty() {
            break;
        }
        pulled += page.changes.len();
        apply_members(store, &page.changes, Some(page.next_after)).await?;
    }
    Ok(pulled)
}

/// Writes the server's members here, and moves the cursor with them when given. The
/// server's names are unique in the store; a local row in the way is either a member this
/// counter made alone (the same person: dropped for the server's) or one whose own change
/// comes later in the list (renamed aside until it arrives).
async fn apply_members(
    store: &LocalStore,
    members: &[StoreStaffBody],
    next_after: Option<i64>,
) -> Result<(), LocalStoreError> {
    // IMMEDIATE: the loop reads before it writes, and a deferred transaction whose read
    // snapshot another writer overtook fails at its first write with "database is locked"
    // at once, busy timeout or not (a pull and a put's answer applied together did).
    let mut transaction = store.pool().begin_with("BEGIN IMMEDIATE").await?;
    for member in members {
        let name_chars = member.name.chars().count();
        if !matches!(member.role.as_str(), "cashier" | "manager")
            || name_chars == 0
            || name_chars > NAME_MAX_CHARS
        {
            tracing::warn!(staff_id = %member.staff_id, "a member from the server is not one; skipped");
            continue;
        }
        let staff_id = member.staff_id.to_string();
        // An answer older than what is here already (a put's answer overtaken by a pull)
        // changes nothing.
        let here: Option<Option<i64>> =
            sqlx::query_scalar("SELECT server_sequence FROM staff WHERE staff_id = ?")
                .bind(&staff_id)
                .fetch_optional(&mut *transaction)
                .await?;
        if here.flatten().is_some_and(|sequence| sequence > member.sequence) {
            continue;
        }
        sqlx::query(
            "DELETE FROM staff WHERE name = ? AND staff_id <> ? AND server_sequence IS NULL",
        )
        .bind(&member.name)
        .bind(&staff_id)
        .execute(&mut *transaction)
        .await?;
        sqlx::query("UPDATE staff SET name = '~' || staff_id WHERE name = ? AND staff_id <> ?")
            .bind(&member.name)
            .bind(&staff_id)
            .execute(&mut *transaction)
            .await?;
        // A new PIN (a manager's reset) lifts a lock-out here too; the same PIN keeps it.
        sqlx::query(
            "INSERT INTO staff (staff_id, name, role, pin_hash, active, created_at_ms, \
             server_sequence) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (staff_id) DO UPDATE SET name = excluded.name, role = excluded.role, \
             active = excluded.active, server_sequence = excluded.server_sequence, \
             push_refused = NULL, \
             failed_attempts = CASE WHEN staff.pin_hash = excluded.pin_hash \
                 THEN staff.failed_attempts ELSE 0 END, \
             locked_until_ms = CASE WHEN staff.pin_hash = excluded.pin_hash \
                 THEN staff.locked_until_ms ELSE NULL END, \
             pin_hash = excluded.pin_hash",
        )
        .bind(&staff_id)
        .bind(&member.name)
        .bind(&member.role)
        .bind(&member.pin_hash)
        .bind(i64::from(member.active))
        .bind(member.changed_at_ms)
        .bind(member.sequence)
        .execute(&mut *transaction)
        .await?;
    }
    if let Some(next_after) = next_after {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(STAFF_CURSOR)
        .bind(next_after.to_string())
        .execute(&mut *transaction)
        .await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// Forgets which of the store's changes this counter has seen, and marks every member as
/// not yet on the server: on a move to another store, the counter's staff go with it and
/// are sent to the new store at the next sync.
pub(crate) async fn restart_for_new_store(
    transaction: &mut sqlx::SqliteConnection,
) -> Result<(), LocalStoreError> {
    sqlx::query("DELETE FROM settings WHERE key = ?")
        .bind(STAFF_CURSOR)
        .execute(&mut *transaction)
        .await?;
    sqlx::query("UPDATE staff SET server_sequence = NULL, push_refused = NULL")
        .execute(&mut *transaction)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(index: i64) -> StoreStaffBody {
        StoreStaffBody {
            staff_id: StaffId::generate(),
            name: format!("Member {index}"),
            role: "cashier".to_owned(),
            pin_hash: "not-checked-here".to_owned(),
            active: true,
            sequence: index,
            changed_by: tillfund_core::TerminalId::generate(),
            changed_at_ms: 0,
        }
    }

    /// Pulls and put answers are applied at the same time (the sync worker and a manager's
    /// change): every one of them lands, none fails with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn members_applied_at_once_all_land() {
        let directory = tempfile::tempdir().unwrap();
        let store = LocalStore::open(&directory.path().join("counter.sqlite")).await.unwrap();
        let members: Vec<StoreStaffBody> = (1..=24).map(member).collect();
        let mut applying = tokio::task::JoinSet::new();
        for pair in members.chunks(2) {
            let (store, pair) = (store.clone(), pair.to_vec());
            applying.spawn(async move { apply_members(&store, &pair, None).await });
        }
        while let Some(applied) = applying.join_next().await {
            applied.unwrap().unwrap();
        }
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM staff").fetch_one(store.pool()).await.unwrap();
        assert_eq!(count, 24);
    }
}
