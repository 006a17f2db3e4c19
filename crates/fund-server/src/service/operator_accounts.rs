//! Administering operators' accounts (list, disable, enable, a new second factor), an
//! operator's own password, and reading the trail; with the credential helpers the
//! sign-in shares.

use tillfund_core::OperatorId;
use tillfund_core::protocol::OperatorAction;

use super::operators::{
    Caller, OperatorSummary, RequestSource, SecondFactorEnrolment, SignedInOperator, TRAIL_PAGE_MAX,
};
use super::*;
use crate::operators::{OperatorPassword, Permission, TotpSecret, TrailRecord};
use crate::store::{OperatorRecord, TrailQuery};

impl<S: Storage> FundService<S> {
    /// The id of the account named `name` (the command line names accounts).
    pub async fn operator_id_by_name(
        &self,
        name: &str,
    ) -> Result<Option<OperatorId>, ServiceError> {
        let Some(name) = crate::operators::normalize_name(name) else { return Ok(None) };
        Ok(self.store.operator_by_name(&name).await?.map(|record| record.id))
    }

    /// Every account, by name (administrators).
    pub async fn operators(
        &self,
        by: &Caller,
        source: &RequestSource,
    ) -> Result<Vec<OperatorSummary>, ServiceError> {
        self.require_permission(
            by,
            source,
            Permission::ManageOperators,
            OperatorAction::OperatorsListed,
            "operators",
        )
        .await?;
        let records =
            self.store.list_operators(self.config.operator_policy.accounts_listed_max).await?;
        Ok(records
            .into_iter()
            .map(|record| OperatorSummary {
                id: record.id,
                name: record.name,
                role: record.role,
                disabled: record.disabled,
                locked_until_ms: record.locked_until_ms,
                created_at_ms: record.created_at_ms,
            })
            .collect())
    }

    /// Disables an account (its sessions end at once) or enables it again (its sign-in
    /// count starts again). An administrator cannot disable their own account: the last
    /// one would lock everybody out.
    pub async fn set_operator_disabled(
        &self,
        by: &Caller,
        source: &RequestSource,
        id: OperatorId,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        let action = if disabled {
            OperatorAction::OperatorDisabled
        } else {
            OperatorAction::OperatorEnabled
        };
        let target = self.store.operator(id).await?;
        let subject = match &target {
            Some(record) => format!("operator:{}", record.name),
            None => format!("operator:{id}"),
        };
        self.require_permission(by, source, Permission::ManageOperators, action, &subject).await?;
        let result = match target {
            None => Err(operators::operator_unknown()),
            Some(_) if disabled && by.operator().is_some_and(|operator| operator.id == id) => {
                Err(ServiceError::new(
                    ErrorCode::OperatorSelfDisable,
                    "You cannot disable your own account; ask another administrator.",
                ))
            }
            Some(_) => match self.store.set_operator_disabled(id, disabled).await? {
                true => Ok(()),
                false => Err(operators::operator_unknown()),
            },
        };
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject,
            "",
            result.as_ref().copied(),
        )
        .await?;
        result
    }

    /// A new second factor for an operator who lost their phone: the old codes stop
    /// working and every session of the account ends. Shown once.
    pub async fn reset_operator_second_factor(
        &self,
        by: &Caller,
        source: &RequestSource,
        id: OperatorId,
    ) -> Result<SecondFactorEnrolment, ServiceError> {
        let action = OperatorAction::SecondFactorReset;
        let target = self.store.operator(id).await?;
        let subject = match &target {
            Some(record) => format!("operator:{}", record.name),
            None => format!("operator:{id}"),
        };
        self.require_permission(by, source, Permission::ManageOperators, action, &subject).await?;
        let result = match target {
            None => Err(operators::operator_unknown()),
            Some(record) => self.replace_second_factor(&record).await,
        };
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject,
            "",
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    async fn replace_second_factor(
        &self,
        record: &OperatorRecord,
    ) -> Result<SecondFactorEnrolment, ServiceError> {
        let secret = TotpSecret::generate();
        if !self.store.set_operator_totp(record.id, &self.seal_totp(record.id, &secret)?).await? {
            return Err(operators::operator_unknown());
        }
        Ok(SecondFactorEnrolment {
            operator: SignedInOperator {
                id: record.id,
                name: record.name.clone(),
                role: record.role,
            },
            totp_secret: secret.to_base32(),
            provisioning_uri: secret.provisioning_uri("Tillfund", &record.name),
        })
    }

    /// Changes the signed-in operator's own password, after the current one proves right;
    /// every session of the account ends, this one too.
    pub async fn change_operator_password(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let result = self.change_password_unrecorded(by, current, new).await;
        let subject = format!("operator:{}", by.name);
        self.record_operator_action(
            by.actor(),
            source,
            OperatorAction::PasswordChanged,
            &subject,
            "",
            result.as_ref().copied(),
        )
        .await?;
        result
    }

    async fn change_password_unrecorded(
        &self,
        by: &SignedInOperator,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let wrong =
            || ServiceError::new(ErrorCode::OperatorSignInFailed, "The current password is wrong.");
        let record = self.store.operator(by.id).await?.ok_or_else(wrong)?;
        let current = OperatorPassword::typed(current).ok_or_else(wrong)?;
        // A wrong current password counts as a failed sign-in: a stolen session cannot be
        // used to guess the password at the speed of argon2.
        let policy = self.config.operator_policy;
        let now = self.store.clock().now_ms();
        let lock_until_ms = now + policy.sign_in_lock_ms;
        let locks = match self
            .store
            .take_sign_in_attempt(by.id, policy.sign_in_attempts_max, now, lock_until_ms)
            .await?
        {
            PinAttempt::Locked { until_ms } => {
                return Err(operators::operator_locked(until_ms, now, self.platform_zone()));
            }
            PinAttempt::Taken { locks, .. } => locks,
        };
        if !self.check_operator_password(&current, record.password_hash.clone()).await? {
            if locks {
                // The lock must hold against this session too.
                self.store.end_operator_sessions(by.id).await?;
                return Err(operators::operator_locked(lock_until_ms, now, self.platform_zone()));
            }
            return Err(wrong());
        }
        self.store.reset_sign_in_failures(by.id).await?;
        let new = OperatorPassword::new(new, &record.name).map_err(|rejected| {
            ServiceError::new(ErrorCode::OperatorPasswordWeak, rejected.to_string())
        })?;
        let hash = self.hash_operator_password(&new).await?;
        self.store.set_operator_password(by.id, &hash).await?;
        Ok(())
    }

    /// The trail, newest first, filtered by `query` (at most `TRAIL_PAGE_MAX` records).
    pub async fn operator_trail(
        &self,
        by: &Caller,
        source: &RequestSource,
        query: TrailQuery,
    ) -> Result<Vec<TrailRecord>, ServiceError> {
        self.require_permission(
            by,
            source,
            Permission::ReadTrail,
            OperatorAction::TrailRead,
            "trail",
        )
        .await?;
        let query = TrailQuery { limit: query.limit.clamp(1, TRAIL_PAGE_MAX), ..query };
        Ok(self.store.trail(&query).await?)
    }

    pub(super) async fn hash_operator_password(
        &self,
        password: &OperatorPassword,
    ) -> Result<String, ServiceError> {
        let turn = self.pin_checker.permit().await.map_err(error::pin_check_error)?;
        self.pin_checker
            .hash_secret(&turn, password.expose().as_bytes().to_vec())
            .await
            .map_err(error::pin_check_error)
    }

    pub(super) async fn check_operator_password(
        &self,
        password: &OperatorPassword,
        stored: String,
    ) -> Result<bool, ServiceError> {
        let turn = self.pin_checker.permit().await.map_err(error::pin_check_error)?;
        self.pin_checker
            .verify_secret(&turn, password.expose().as_bytes().to_vec(), stored)
            .await
            .map_err(error::pin_check_error)
    }

    pub(super) fn seal_totp(
        &self,
        id: OperatorId,
        secret: &TotpSecret,
    ) -> Result<String, ServiceError> {
        self.config
            .secrets_key
            .seal(&operator_aad(id), secret.expose_bytes())
            .map_err(|error| internal(error.to_string()))
    }

    pub(super) fn open_totp(
        &self,
        id: OperatorId,
        sealed: &str,
    ) -> Result<TotpSecret, ServiceError> {
        let bytes = self
            .config
            .secrets_key
            .open(&operator_aad(id), sealed)
            .map_err(|error| internal(format!("operator {id}'s second factor: {error}")))?;
        let bytes = <[u8; crate::operators::totp::SECRET_BYTES]>::try_from(bytes)
            .map_err(|_| internal(format!("operator {id}'s second factor has the wrong length")))?;
        Ok(TotpSecret::from_bytes(bytes))
    }
}

/// The associated data of a sealed second factor: a sealed secret moved to another
/// operator's row does not open.
fn operator_aad(id: OperatorId) -> Vec<u8> {
    format!("operator-totp:{id}").into_bytes()
}
