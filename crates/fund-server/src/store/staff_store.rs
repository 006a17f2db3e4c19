//! A store's staff on the server: one row per member as they stand now, each change given
//! the next place in one order of staff changes, which counters pull by.

use std::future::Future;

use tillfund_core::{MerchantId, StaffId, TerminalId};

use super::Stored;

/// A member of a store's staff as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStaff {
    pub staff_id: StaffId,
    pub name: String,
    /// `cashier` or `manager`, checked before it is stored.
    pub role: String,
    pub pin_hash: String,
    pub active: bool,
    pub sequence: i64,
    pub changed_by: TerminalId,
    pub changed_at_ms: i64,
}

/// A member's record as a counter sends it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub name: String,
    pub role: String,
    pub pin_hash: String,
    pub active: bool,
    /// A condition, not kept: the record is put only while the store's staff are all
    /// this counter's own (none yet, or the ones it just made before it knew the store's).
    pub first_of_store: bool,
}

/// What putting a member's record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutStaffOutcome {
    /// Stored (or already so: the same record again changes nothing and keeps its place).
    Kept(StoredStaff),
    /// Another member of the store has this name (ignoring case).
    NameTaken,
    /// The store keeps `limit` members already and this one is new.
    LimitReached,
    /// The change would leave the store without an active manager.
    LastManager,
    /// Asked as the store's first member, but the store has staff.
    StoreHasStaff,
}

pub trait StaffStore {
    /// Stores `record` for `staff_id` in the merchant's staff, at most `limit` members,
    /// names unique, at least one active manager once there is one. One at a time per
    /// store, so two counters' changes cannot both pass these checks.
    fn put_staff(
        &self,
        merchant_id: MerchantId,
        staff_id: StaffId,
        record: &StaffRecord,
        changed_by: TerminalId,
        limit: i64,
        now_ms: i64,
    ) -> impl Future<Output = Stored<PutStaffOutcome>> + Send;

    /// The merchant's members changed after `after_sequence`, oldest change first.
    fn staff_changes(
        &self,
        merchant_id: MerchantId,
        after_sequence: i64,
        limit: i64,
    ) -> impl Future<Output = Stored<Vec<StoredStaff>>> + Send;
}

/// Whether `record` may be put for `staff_id` among the store's `members` (all of them, as
/// they stand): the same record again is kept as it is; otherwise names stay unique
/// (ignoring ASCII case, as the counter and SQLite's NOCASE compare), a new member fits
/// under `limit`, and a store that has an active manager keeps one. Both backends decide
/// with this, inside the transaction that holds the store's staff.
pub(crate) fn decide_put(
    staff_id: StaffId,
    record: &StaffRecord,
    members: &[StoredStaff],
    changed_by: TerminalId,
    limit: i64,
) -> Result<Option<StoredStaff>, StaffRefusal> {
    let existing = members.iter().find(|member| member.staff_id == staff_id);
    if let Some(existing) = existing
        && existing.name == record.name
        && existing.role == record.role
        && existing.pin_hash == record.pin_hash
        && existing.active == record.active
    {
        return Ok(Some(existing.clone()));
    }
    if record.first_of_store
        && members
            .iter()
            .any(|member| member.staff_id != staff_id && member.changed_by != changed_by)
    {
        return Err(StaffRefusal::StoreHasStaff);
    }
    let others = || members.iter().filter(|member| member.staff_id != staff_id);
    if others().any(|member| member.name.eq_ignore_ascii_case(&record.name)) {
        return Err(StaffRefusal::NameTaken);
    }
    if existing.is_none() && i64::try_from(members.len()).unwrap_or(i64::MAX) >= limit {
        return Err(StaffRefusal::LimitReached);
    }
    let active_manager = |member: &StoredStaff| member.active && member.role == "manager";
    let had_manager = members.iter().any(active_manager);
    let keeps_manager = others().any(active_manager) || (record.active && record.role == "manager");
    if had_manager && !keeps_manager {
        return Err(StaffRefusal::LastManager);
    }
    Ok(None)
}

/// Why [`decide_put`] refuses a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaffRefusal {
    NameTaken,
    LimitReached,
    LastManager,
    StoreHasStaff,
}

impl From<StaffRefusal> for PutStaffOutcome {
    fn from(refusal: StaffRefusal) -> PutStaffOutcome {
        match refusal {
            StaffRefusal::NameTaken => PutStaffOutcome::NameTaken,
            StaffRefusal::LimitReached => PutStaffOutcome::LimitReached,
            StaffRefusal::LastManager => PutStaffOutcome::LastManager,
            StaffRefusal::StoreHasStaff => PutStaffOutcome::StoreHasStaff,
        }
    }
}
