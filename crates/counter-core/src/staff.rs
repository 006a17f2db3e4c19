//! Who is at the counter. Staff are kept at the counter with a PIN and a role: a cashier
//! sells and takes top-ups; a manager also refunds, closes the day and manages staff. The
//! shift is the member signed in now; it ends on sign-out or after a quiet spell, so a
//! counter left alone does not stay open for the next person.

use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use rand_core::OsRng;
use serde::Serialize;
use sqlx::Row;
use tillfund_core::StaffId;

use crate::counter::{Counter, CounterError};
use crate::error_code::CounterCode;
use crate::staff_sync::{self, LocalRecord};
use crate::store::LocalStoreError;

/// Wrong PINs in a row before a member is locked out for [`LOCK_MS`].
pub const MAX_WRONG_PINS: i64 = 5;
pub const LOCK_MS: i64 = 5 * 60 * 1000;
/// A shift with no action for this long is signed out.
pub const IDLE_SIGN_OUT_MS: i64 = 15 * 60 * 1000;
/// Far above any store's staff; a bound on the list the sign-in screen shows.
pub const MAX_STAFF: i64 = tillfund_core::protocol::STORE_STAFF_MAX;
pub const NAME_MAX_CHARS: usize = tillfund_core::protocol::STAFF_NAME_MAX_CHARS;

/// argon2id at OWASP's recommended cost (19 MiB, 2 passes), as the server uses for
/// customer PINs: a copied counter database does not give the PINs back in seconds.
const PIN_HASH_MEMORY_KIB: u32 = tillfund_core::protocol::STAFF_PIN_HASH_MEMORY_KIB_MIN;
const PIN_HASH_PASSES: u32 = tillfund_core::protocol::STAFF_PIN_HASH_PASSES_MIN;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cashier,
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Manager => "manager",
        }
    }

    pub fn parse(text: &str) -> Result<Role, CounterError> {
        match text.trim() {
            "cashier" => Ok(Role::Cashier),
            "manager" => Ok(Role::Manager),
            other => Err(CounterError::Invalid {
                code: CounterCode::RoleInvalid,
                message: format!("'{other}' is not a role: cashier or manager"),
            }),
        }
    }

    /// Whether someone in this role may do what `needed` may do.
    pub fn allows(self, needed: Role) -> bool {
        self == Role::Manager || needed == Role::Cashier
    }
}

/// A staff PIN: four to eight digits. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffPin(String);

impl StaffPin {
    pub fn parse(text: &str) -> Result<StaffPin, CounterError> {
        if !(4..=8).contains(&text.len()) || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(CounterError::Invalid {
                code: CounterCode::StaffPinInvalid,
                message: "a staff PIN is 4 to 8 digits".to_owned(),
            });
        }
        Ok(StaffPin(text.to_owned()))
    }
}

impl std::fmt::Debug for StaffPin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("StaffPin(****)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffMember {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub staff_id: StaffId,
    pub name: String,
    pub role: Role,
    pub active: bool,
    /// Set while the member is locked out after wrong PINs.
    pub locked_until_ms: Option<i64>,
}

/// The member signed in now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffSession {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub staff_id: StaffId,
    pub name: String,
    pub role: Role,
    pub signed_in_at_ms: i64,
}

/// Who did something at the counter, as it is kept with what they did: the member's id
/// (sent to the server) and their name then (for receipts and the shift report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cashier {
    pub staff_id: StaffId,
    pub name: String,
}

impl From<&StaffSession> for Cashier {
    fn from(session: &StaffSession) -> Cashier {
        Cashier { staff_id: session.staff_id, name: session.name.clone() }
    }
}

/// The shift: at most one member signed in, signed out after [`IDLE_SIGN_OUT_MS`] without
/// an action. Held in memory only: a restarted app asks for the PIN again.
#[derive(Debug, Default)]
pub struct Shift {
    current: Mutex<Option<(StaffSession, i64)>>,
}

impl Shift {
    pub fn begin(&self, session: StaffSession, now_ms: i64) {
        *self.lock() = Some((session, now_ms));
    }

    pub fn end(&self) {
        *self.lock() = None;
    }

    /// Who is signed in, without counting this as an action.
    pub fn current(&self, now_ms: i64) -> Option<StaffSession> {
        let mut current = self.lock();
        if current.as_ref().is_some_and(|(_, last)| now_ms - last > IDLE_SIGN_OUT_MS) {
            *current = None;
        }
        current.as_ref().map(|(session, _)| session.clone())
    }

    /// The signed-in member if their role allows `needed`; counts as an action.
    pub fn require(&self, needed: Role, now_ms: i64) -> Result<StaffSession, CounterError> {
        let session = self.current(now_ms).ok_or(CounterError::SignInRequired)?;
        if !session.role.allows(needed) {
            return Err(CounterError::ManagerRequired);
        }
        if let Some((_, last)) = self.lock().as_mut() {
            *last = now_ms;
        }
        Ok(session)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(StaffSession, i64)>> {
        // A panic while holding this lock leaves a valid Option behind; keep going.
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(PIN_HASH_MEMORY_KIB, PIN_HASH_PASSES, 1, None)
        .unwrap_or_else(|_| Params::default());
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashing takes tens of milliseconds on purpose; it runs off the async workers.
async fn hash_pin(pin: StaffPin) -> Result<String, CounterError> {
    let failed =
        |message: String| CounterError::Invalid { code: CounterCode::StaffPinHashFailed, message };
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(pin.0.as_bytes(), &salt).map(|hash| hash.to_string())
    })
    .await
    .map_err(|error| failed(error.to_string()))?
    .map_err(|error| failed(error.to_string()))
}

async fn pin_matches(pin: StaffPin, stored_hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored_hash)
            .is_ok_and(|parsed| hasher().verify_password(pin.0.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

fn staff_name(text: &str) -> Result<String, CounterError> {
    let name = text.trim();
    let count = name.chars().count();
    if count == 0 || count > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(CounterError::Invalid {
            code: CounterCode::StaffNameInvalid,
            message: format!("a staff name is 1 to {NAME_MAX_CHARS} characters"),
        });
    }
    Ok(name.to_owned())
}

fn member_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<StaffMember, LocalStoreError> {
    let corrupt = |error: tillfund_core::InvalidId| LocalStoreError::Corrupt(error.to_string());
    let role = match row.try_get::<&str, _>("role")? {
        "manager" => Role::Manager,
        _ => Role::Cashier,
    };
    Ok(StaffMember {
        staff_id: row.try_get::<&str, _>("staff_id")?.parse().map_err(corrupt)?,
        name: row.try_get("name")?,
        role,
        active: row.try_get::<i64, _>("active")? == 1,
        locked_until_ms: row.try_get("locked_until_ms")?,
    })
}

const MEMBER_COLUMNS: &str = "staff_id, name, role, active, locked_until_ms";

impl Counter {
    /// Everyone who works this counter, managers first, then by name.
    pub async fn staff(&self) -> Result<Vec<StaffMember>, CounterError> {
        let rows = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM staff ORDER BY role DESC, name LIMIT {MAX_STAFF}"
        ))
        .fetch_all(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        Ok(rows.iter().map(member_from_row).collect::<Result<_, _>>()?)
    }

    async fn member(&self, staff_id: StaffId) -> Result<StaffMember, CounterError> {
        let row = sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM staff WHERE staff_id = ?"))
            .bind(staff_id.to_string())
            .fetch_optional(self.store().pool())
            .await
            .map_err(LocalStoreError::from)?
            .ok_or_else(not_found)?;
        Ok(member_from_row(&row)?)
    }

    /// Adds a member of staff. The very first must be a manager and needs nobody signed in
    /// (a new counter has nobody to ask); after that only a manager adds staff.
    pub async fn add_staff(
        &self,
        by: Option<&StaffSession>,
        name: &str,
        role: Role,
        pin: &str,
        now_ms: i64,
    ) -> Result<StaffMember, CounterError> {
        let name = staff_name(name)?;
        let pin_hash = hash_pin(StaffPin::parse(pin)?).await?;
        if self.store().profile().await?.is_some() {
            return self.add_store_staff(by, name, role, pin_hash).await;
        }
        // Not enrolled yet: kept here, and sent to the store's list once enrolled.
        // IMMEDIATE: "is this the first?" and the insert are one decision.
        let mut transaction = self
            .store()
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(LocalStoreError::from)?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM staff")
            .fetch_one(&mut *transaction)
            .await
            .map_err(LocalStoreError::from)?;
        if count == 0 && role != Role::Manager {
            return Err(first_must_be_manager());
        }
        if count > 0 && !by.is_some_and(|session| session.role == Role::Manager) {
            return Err(CounterError::ManagerRequired);
        }
        if count >= MAX_STAFF {
            return Err(CounterError::Invalid {
                code: CounterCode::StaffLimitReached,
                message: format!(
                    "a counter keeps at most {MAX_STAFF} staff; disable someone first"
                ),
            });
        }
        let staff_id = StaffId::generate();
        let inserted = sqlx::query(
            "INSERT INTO staff (staff_id, name, role, pin_hash, active, created_at_ms) \
             VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(staff_id.to_string())
        .bind(&name)
        .bind(role.as_str())
        .bind(pin_hash)
        .bind(now_ms)
        .execute(&mut *transaction)
        .await
        .map_err(LocalStoreError::from)?;
        if inserted.rows_affected() == 0 {
            return Err(name_taken(&name));
        }
        transaction.commit().await.map_err(LocalStoreError::from)?;
        Ok(StaffMember { staff_id, name, role, active: true, locked_until_ms: None })
    }

    /// Adds a member to the store's staff on the server, then here (`staff_sync`). The
    /// first of a store needs nobody signed in, and the server keeps it only while the
    /// store has no staff at all.
    async fn add_store_staff(
        &self,
        by: Option<&StaffSession>,
        name: String,
        role: Role,
        pin_hash: String,
    ) -> Result<StaffMember, CounterError> {
        let members = self.staff().await?;
        let first_of_store = members.is_empty();
        if first_of_store && role != Role::Manager {
            return Err(first_must_be_manager());
        }
        if !first_of_store && !by.is_some_and(|session| session.role == Role::Manager) {
            return Err(CounterError::ManagerRequired);
        }
        if members.iter().any(|member| member.name.eq_ignore_ascii_case(&name)) {
            return Err(name_taken(&name));
        }
        let record =
            LocalRecord { staff_id: StaffId::generate(), name, role, pin_hash, active: true };
        staff_sync::put_member(self.store(), &record, first_of_store).await?;
        self.member(record.staff_id).await
    }

    /// Changes a member on the server, then here: `change` edits their whole record.
    async fn change_store_staff(
        &self,
        staff_id: StaffId,
        change: impl FnOnce(&mut LocalRecord),
    ) -> Result<StaffMember, CounterError> {
        let mut record =
            staff_sync::local_record(self.store(), staff_id).await?.ok_or_else(not_found)?;
        change(&mut record);
        staff_sync::put_member(self.store(), &record, false).await?;
        self.member(staff_id).await
    }

    /// Checks a member's PIN. Five wrong in a row lock the member out for five minutes;
    /// the count is kept in the database, so restarting the app does not reset it.
    pub async fn sign_in(
        &self,
        staff_id: StaffId,
        pin: &str,
        now_ms: i64,
    ) -> Result<StaffSession, CounterError> {
        let member = self.member(staff_id).await?;
        if !member.active {
            return Err(CounterError::Invalid {
                code: CounterCode::StaffInactive,
                message: format!(
                    "{} is disabled at this counter; a manager can enable them",
                    member.name
                ),
            });
        }
        if let Some(until) = member.locked_until_ms.filter(|until| *until > now_ms) {
            return Err(CounterError::StaffLocked { minutes: minutes_until(until, now_ms) });
        }
        let pin = StaffPin::parse(pin)
            .map_err(|_| CounterError::StaffPinWrong { attempts_left: MAX_WRONG_PINS - 1 });
        let stored_hash: String =
            sqlx::query_scalar("SELECT pin_hash FROM staff WHERE staff_id = ?")
                .bind(staff_id.to_string())
                .fetch_one(self.store().pool())
                .await
                .map_err(LocalStoreError::from)?;
        let right = match pin {
            Ok(pin) => pin_matches(pin, stored_hash).await,
            Err(_) => false,
        };
        if right {
            sqlx::query(
                "UPDATE staff SET failed_attempts = 0, locked_until_ms = NULL WHERE staff_id = ?",
            )
            .bind(staff_id.to_string())
            .execute(self.store().pool())
            .await
            .map_err(LocalStoreError::from)?;
            return Ok(StaffSession {
                staff_id,
                name: member.name,
                role: member.role,
                signed_in_at_ms: now_ms,
            });
        }
        // One statement: two wrong PINs at once both count.
        let failed: i64 = sqlx::query_scalar(
            "UPDATE staff SET failed_attempts = failed_attempts + 1 WHERE staff_id = ? \
             RETURNING failed_attempts",
        )
        .bind(staff_id.to_string())
        .fetch_one(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        if failed >= MAX_WRONG_PINS {
            sqlx::query(
                "UPDATE staff SET failed_attempts = 0, locked_until_ms = ? WHERE staff_id = ?",
            )
            .bind(now_ms + LOCK_MS)
            .bind(staff_id.to_string())
            .execute(self.store().pool())
            .await
            .map_err(LocalStoreError::from)?;
            return Err(CounterError::StaffLocked {
                minutes: minutes_until(now_ms + LOCK_MS, now_ms),
            });
        }
        Err(CounterError::StaffPinWrong { attempts_left: MAX_WRONG_PINS - failed })
    }

    /// A manager enables or disables a member. The last active manager stays: without one
    /// nobody could close the day or add staff.
    pub async fn set_staff_active(
        &self,
        by: &StaffSession,
        staff_id: StaffId,
        active: bool,
    ) -> Result<StaffMember, CounterError> {
        if by.role != Role::Manager {
            return Err(CounterError::ManagerRequired);
        }
        if self.store().profile().await?.is_some() {
            return self.change_store_staff(staff_id, |record| record.active = active).await;
        }
        let mut transaction = self
            .store()
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(LocalStoreError::from)?;
        if !active {
            let other_managers: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM staff WHERE role = 'manager' AND active = 1 AND staff_id <> ?",
            )
            .bind(staff_id.to_string())
            .fetch_one(&mut *transaction)
            .await
            .map_err(LocalStoreError::from)?;
            let is_manager: bool = sqlx::query_scalar(
                "SELECT count(*) > 0 FROM staff WHERE staff_id = ? AND role = 'manager'",
            )
            .bind(staff_id.to_string())
            .fetch_one(&mut *transaction)
            .await
            .map_err(LocalStoreError::from)?;
            if is_manager && other_managers == 0 {
                return Err(CounterError::Invalid {
                    code: CounterCode::LastManager,
                    message: "this is the only active manager; add another manager first"
                        .to_owned(),
                });
            }
        }
        sqlx::query("UPDATE staff SET active = ? WHERE staff_id = ?")
            .bind(i64::from(active))
            .bind(staff_id.to_string())
            .execute(&mut *transaction)
            .await
            .map_err(LocalStoreError::from)?;
        transaction.commit().await.map_err(LocalStoreError::from)?;
        self.member(staff_id).await
    }

    /// A manager sets a new PIN for a member (a forgotten PIN); it also lifts a lock-out.
    pub async fn reset_staff_pin(
        &self,
        by: &StaffSession,
        staff_id: StaffId,
        pin: &str,
    ) -> Result<StaffMember, CounterError> {
        if by.role != Role::Manager {
            return Err(CounterError::ManagerRequired);
        }
        self.member(staff_id).await?;
        let pin_hash = hash_pin(StaffPin::parse(pin)?).await?;
        if self.store().profile().await?.is_some() {
            // A new PIN hash lifts the lock-out where it is written (`staff_sync`).
            return self.change_store_staff(staff_id, |record| record.pin_hash = pin_hash).await;
        }
        sqlx::query(
            "UPDATE staff SET pin_hash = ?, failed_attempts = 0, locked_until_ms = NULL \
             WHERE staff_id = ?",
        )
        .bind(pin_hash)
        .bind(staff_id.to_string())
        .execute(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        self.member(staff_id).await
    }
}

fn first_must_be_manager() -> CounterError {
    CounterError::Invalid {
        code: CounterCode::FirstStaffMustBeManager,
        message: "the first member of staff is a manager, who then adds the cashiers".to_owned(),
    }
}

fn name_taken(name: &str) -> CounterError {
    CounterError::Invalid {
        code: CounterCode::StaffNameTaken,
        message: format!("someone called '{name}' already works in this store"),
    }
}

fn not_found() -> CounterError {
    CounterError::Invalid {
        code: CounterCode::StaffNotFound,
        message: "there is no such member of staff at this counter".to_owned(),
    }
}

fn minutes_until(until_ms: i64, now_ms: i64) -> i64 {
    (until_ms - now_ms + 59_999) / 60_000
}

#[cfg(test)]
#[path = "staff_tests.rs"]
mod tests;
