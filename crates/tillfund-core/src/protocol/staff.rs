//! A store's staff kept on the server (`/v1/terminal/staff/{staff_id}`,
//! `/v1/sync/staff`): a manager adds, changes or disables a member at any of the store's
//! counters, every counter of the store pulls the list and signs its staff in offline with
//! it. The PIN travels as the counter's argon2id hash only, never as digits.

use serde::{Deserialize, Serialize};

use crate::{StaffId, TerminalId};

/// Far above any store's staff; a bound on the list every counter keeps.
pub const STORE_STAFF_MAX: i64 = 200;
pub const STAFF_NAME_MAX_CHARS: usize = 40;
/// The most changes one pull answers.
pub const STAFF_CHANGES_PER_PULL_MAX: i64 = 500;
/// The cheapest PIN hash the server keeps: argon2id at OWASP's recommended cost (19 MiB, two
/// passes). A cheaper one would let a copy of the list give the PINs back in seconds.
pub const STAFF_PIN_HASH_MEMORY_KIB_MIN: u32 = 19 * 1024;
pub const STAFF_PIN_HASH_PASSES_MIN: u32 = 2;
/// A PHC string of argon2id is about 100 characters; anything much longer is not one.
pub const STAFF_PIN_HASH_MAX_CHARS: usize = 200;

/// A member of staff as the counter sends them: the whole record, which replaces the
/// server's (the staff id is made by the first counter and scoped to the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffChangeRequest {
    /// 1 to 40 characters, unique in the store (ignoring case).
    pub name: String,
    /// `cashier` or `manager`.
    pub role: String,
    /// The PIN's argon2id hash as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub pin_hash: String,
    pub active: bool,
    /// Set when a counter makes a manager with nobody there to sign in (the store's first,
    /// or one it made before it was enrolled): the server keeps the member only while every
    /// other member of the store was made by this same counter, so two new counters cannot
    /// both make a "first" manager, nor one a manager beside the store's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_of_store: bool,
}

/// A member of the store's staff as the server keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreStaffBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub staff_id: StaffId,
    pub name: String,
    pub role: String,
    pub pin_hash: String,
    pub active: bool,
    /// The change's place in the server's order of staff changes: pass the last one seen as
    /// `after` to pull what changed since.
    pub sequence: i64,
    /// The counter that made the change, and when the server took it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub changed_by: TerminalId,
    pub changed_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffChangesBody {
    /// The store's members changed since `after`, oldest change first; each member once, as
    /// they stand now.
    pub changes: Vec<StoreStaffBody>,
    /// Pass as `after` next time.
    pub next_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct StaffChangesQuery {
    /// The `next_after` of the previous answer; 0 the first time.
    #[serde(default)]
    pub after: i64,
}

impl StaffChangesQuery {
    /// The path with this query, exactly as it is sent and signed.
    pub fn path(&self) -> String {
        format!("/v1/sync/staff?after={}", self.after)
    }
}

/// The path a member's change is sent to.
pub fn staff_path(staff_id: StaffId) -> String {
    format!("/v1/terminal/staff/{staff_id}")
}
