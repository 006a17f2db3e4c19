//! A store's staff on the server: a counter of the store puts a member's whole record
//! (added, renamed, a new PIN, disabled) and every counter of the store pulls the changes.
//! The server keeps the PIN only as the counter's argon2id hash, at no less than the cost
//! counters hash with (and no more than a counter can verify in a moment).

use argon2::password_hash::PasswordHash;
use tillfund_core::StaffId;
use tillfund_core::protocol::{
    STAFF_CHANGES_PER_PULL_MAX, STAFF_NAME_MAX_CHARS, STAFF_PIN_HASH_MAX_CHARS,
    STAFF_PIN_HASH_MEMORY_KIB_MIN, STAFF_PIN_HASH_PASSES_MIN, STORE_STAFF_MAX, StaffChangeRequest,
};

use super::{AuthenticatedTerminal, ErrorCode, FundService, ServiceError};
use crate::store::{PutStaffOutcome, StaffRecord, Storage, StoredStaff};

/// Above these a hash would make every counter of the store spend seconds or gigabytes on
/// each sign-in: a PIN hash is refused beyond them as below the minimum.
const PIN_HASH_MEMORY_KIB_MAX: u32 = 256 * 1024;
const PIN_HASH_PASSES_MAX: u32 = 10;
const PIN_HASH_LANES_MAX: u32 = 4;

fn invalid(code: ErrorCode, message: &str) -> ServiceError {
    ServiceError::new(code, message)
}

/// A member's record as sent, checked: a name as typed (no blanks at its ends), a role, and
/// an argon2id PHC string within the cost bounds, with its salt and hash.
pub fn check_staff_record(request: &StaffChangeRequest) -> Result<StaffRecord, ServiceError> {
    let name = &request.name;
    let chars = name.chars().count();
    if chars == 0
        || chars > STAFF_NAME_MAX_CHARS
        || name.trim() != name
        || name.chars().any(char::is_control)
    {
        return Err(invalid(
            ErrorCode::StaffNameInvalid,
            "A staff name is 1 to 40 characters, without control characters or blanks at its ends.",
        ));
    }
    if !matches!(request.role.as_str(), "cashier" | "manager") {
        return Err(invalid(ErrorCode::StaffRoleInvalid, "A role is cashier or manager."));
    }
    check_pin_hash(&request.pin_hash)?;
    Ok(StaffRecord {
        name: name.clone(),
        role: request.role.clone(),
        pin_hash: request.pin_hash.clone(),
        active: request.active,
        first_of_store: request.first_of_store,
    })
}

fn check_pin_hash(text: &str) -> Result<(), ServiceError> {
    let refused = || {
        invalid(
            ErrorCode::StaffPinHashInvalid,
            "A staff PIN is sent as its argon2id hash (PHC string, version 19) costing at least 19 MiB and 2 passes.",
        )
    };
    if text.len() > STAFF_PIN_HASH_MAX_CHARS {
        return Err(refused());
    }
    let hash = PasswordHash::new(text).map_err(|_| refused())?;
    if hash.algorithm.as_str() != "argon2id"
        || hash.version != Some(19)
        || hash.salt.is_none()
        || hash.hash.is_none_or(|output| output.len() < 16)
    {
        return Err(refused());
    }
    let params = argon2::Params::try_from(&hash).map_err(|_| refused())?;
    let memory = STAFF_PIN_HASH_MEMORY_KIB_MIN..=PIN_HASH_MEMORY_KIB_MAX;
    let passes = STAFF_PIN_HASH_PASSES_MIN..=PIN_HASH_PASSES_MAX;
    if !memory.contains(&params.m_cost())
        || !passes.contains(&params.t_cost())
        || !(1..=PIN_HASH_LANES_MAX).contains(&params.p_cost())
    {
        return Err(refused());
    }
    Ok(())
}

impl<S: Storage> FundService<S> {
    /// Puts a member's record in the counter's store; answers the record as kept.
    pub async fn put_staff(
        &self,
        terminal: &AuthenticatedTerminal,
        staff_id: &str,
        request: &StaffChangeRequest,
    ) -> Result<StoredStaff, ServiceError> {
        let staff_id: StaffId = staff_id
            .parse()
            .map_err(|_| invalid(ErrorCode::StaffIdInvalid, "This is not a staff id."))?;
        let record = check_staff_record(request)?;
        let outcome = self
            .store
            .put_staff(
                terminal.terminal.merchant_id,
                staff_id,
                &record,
                terminal.terminal.id,
                STORE_STAFF_MAX,
                self.store.clock().now_ms(),
            )
            .await?;
        match outcome {
            PutStaffOutcome::Kept(stored) => Ok(stored),
            PutStaffOutcome::NameTaken => Err(invalid(
                ErrorCode::StaffNameTaken,
                "A member of this store's staff has this name already.",
            )),
            PutStaffOutcome::LimitReached => Err(invalid(
                ErrorCode::StaffLimitReached,
                "This store has as many staff as it can keep (200); disable someone first.",
            )),
            PutStaffOutcome::LastManager => Err(invalid(
                ErrorCode::LastManager,
                "This is the store's only active manager; add another manager first.",
            )),
            PutStaffOutcome::StoreHasStaff => Err(invalid(
                ErrorCode::StoreHasStaff,
                "This store has staff already: sign in as one of its managers to add someone.",
            )),
        }
    }

    /// The counter's store's members changed after `after`, oldest change first.
    pub async fn staff_changes(
        &self,
        terminal: &AuthenticatedTerminal,
        after: i64,
    ) -> Result<Vec<StoredStaff>, ServiceError> {
        let merchant_id = terminal.terminal.merchant_id;
        Ok(self.store.staff_changes(merchant_id, after.max(0), STAFF_CHANGES_PER_PULL_MAX).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(memory_kib: u32, passes: u32) -> String {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let params = argon2::Params::new(memory_kib, passes, 1, None).unwrap();
        let hasher =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        hasher.hash_password(b"2468", &salt).unwrap().to_string()
    }

    fn request(name: &str, role: &str, pin_hash: String) -> StaffChangeRequest {
        StaffChangeRequest {
            name: name.into(),
            role: role.into(),
            pin_hash,
            active: true,
            first_of_store: false,
        }
    }

    #[test]
    fn only_a_proper_record_is_kept() {
        let good = hash(19 * 1024, 2);
        assert!(check_staff_record(&request("Mia 米娅", "manager", good.clone())).is_ok());
        let refused = |request: StaffChangeRequest| check_staff_record(&request).unwrap_err().code;
        for name in ["", " Mia", "Mia ", "M\u{7}ia", &"x".repeat(41)] {
            assert_eq!(
                refused(request(name, "cashier", good.clone())),
                ErrorCode::StaffNameInvalid
            );
        }
        assert_eq!(refused(request("Mia", "owner", good.clone())), ErrorCode::StaffRoleInvalid);
        let weak = [
            hash(1024, 2),
            hash(19 * 1024, 1),
            hash(300 * 1024, 2),
            "2468".to_owned(),
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"
                .to_owned(),
            "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"
                .to_owned(),
            "$argon2id$v=19$m=19456,t=2,p=1".to_owned(),
            format!("{good}{}", "A".repeat(200)),
        ];
        for pin_hash in weak {
            assert_eq!(
                refused(request("Mia", "cashier", pin_hash.clone())),
                ErrorCode::StaffPinHashInvalid,
                "{pin_hash}"
            );
        }
    }
}
