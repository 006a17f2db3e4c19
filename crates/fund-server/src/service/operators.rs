//! The platform's staff: accounts, sign-in with a password and a one-time code, sessions,
//! what each role may do, and the trail every action leaves (`operators/` holds the rules,
//! this file applies them over the store).

use tillfund_core::OperatorId;
use tillfund_core::protocol::{OperatorAction, OperatorRole};

use super::*;
use crate::operators::{
    Actor, NewTrailRecord, OperatorPassword, Permission, TotpSecret, TrailRecord, allows,
    normalize_name,
};
use crate::store::{OperatorRecord, SessionLimits};

/// Where a sign-in or a request came from, as the trail records it: the client's address,
/// or `cli` for the command line on the server's machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSource(pub String);

impl RequestSource {
    pub fn command_line() -> RequestSource {
        RequestSource("cli".to_owned())
    }
}

/// An operator whose session was checked: who acts in every use case below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInOperator {
    pub id: OperatorId,
    pub name: String,
    pub role: OperatorRole,
}

impl SignedInOperator {
    pub(super) fn actor(&self) -> Actor {
        Actor { operator_id: Some(self.id), name: self.name.clone() }
    }

    fn from_record(record: &OperatorRecord) -> SignedInOperator {
        SignedInOperator { id: record.id, name: record.name.clone(), role: record.role }
    }
}

/// Who asks for an administrative use case: a signed-in operator, whose role decides, or
/// the command line on the server's machine, which can do anything (whoever runs it holds
/// the database and its keys already) and is recorded as `cli`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    CommandLine,
    Operator(SignedInOperator),
}

impl Caller {
    pub(super) fn actor(&self) -> Actor {
        match self {
            Caller::CommandLine => Actor { operator_id: None, name: "cli".to_owned() },
            Caller::Operator(operator) => operator.actor(),
        }
    }

    /// The signed-in operator, if it is one.
    pub fn operator(&self) -> Option<&SignedInOperator> {
        match self {
            Caller::CommandLine => None,
            Caller::Operator(operator) => Some(operator),
        }
    }
}

/// A new session: the token is shown once, to the one who signed in.
#[derive(Debug, Clone)]
pub struct OperatorSession {
    pub token: String,
    pub expires_at_ms: i64,
    pub operator: SignedInOperator,
}

/// A new account or a new second factor: the secret is shown once, to be scanned into the
/// operator's authenticator app.
#[derive(Debug, Clone)]
pub struct SecondFactorEnrolment {
    pub operator: SignedInOperator,
    pub totp_secret: String,
    pub provisioning_uri: String,
}

/// An account as an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSummary {
    pub id: OperatorId,
    pub name: String,
    pub role: OperatorRole,
    pub disabled: bool,
    pub locked_until_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// Limits of the operators' sign-in and sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperatorPolicy {
    /// Wrong sign-ins in a row that lock an account, and for how long.
    pub sign_in_attempts_max: i64,
    pub sign_in_lock_ms: i64,
    /// A session ends this long after sign-in, however busy.
    pub session_ttl_ms: i64,
    pub sessions: SessionLimits,
    /// Accounts listed at most (a platform has tens of staff, not thousands).
    pub accounts_listed_max: u32,
}

impl Default for OperatorPolicy {
    fn default() -> OperatorPolicy {
        OperatorPolicy {
            sign_in_attempts_max: 5,
            sign_in_lock_ms: 15 * 60 * 1000,
            session_ttl_ms: 12 * 60 * 60 * 1000,
            sessions: SessionLimits { idle_ms: 30 * 60 * 1000, per_operator_max: 10 },
            accounts_listed_max: 500,
        }
    }
}

/// Records of the trail one read returns at most.
pub const TRAIL_PAGE_MAX: u32 = 500;

/// The issuer shown beside the account in authenticator apps.
const TOTP_ISSUER: &str = "Tillfund";

fn forbidden(operator: &SignedInOperator, permission: Permission) -> ServiceError {
    ServiceError::new(
        ErrorCode::OperatorForbidden,
        format!("The {} role does not allow this ({permission:?}).", operator.role.as_str()),
    )
}

fn sign_in_failed() -> ServiceError {
    ServiceError::new(
        ErrorCode::OperatorSignInFailed,
        "The name, the password or the one-time code is wrong.",
    )
}

pub(super) fn operator_unknown() -> ServiceError {
    ServiceError::new(ErrorCode::OperatorUnknown, "There is no such operator.")
}

impl<S: Storage> FundService<S> {
    /// Appends one record to the operators' trail. A trail that cannot be written refuses
    /// the action it would have recorded: nothing happens unrecorded.
    pub async fn record_operator_action(
        &self,
        actor: Actor,
        source: &RequestSource,
        action: OperatorAction,
        subject: &str,
        detail: &str,
        outcome: Result<(), &ServiceError>,
    ) -> Result<TrailRecord, ServiceError> {
        let outcome = match outcome {
            Ok(()) => "ok",
            Err(error) => error.code.as_str(),
        };
        let record = NewTrailRecord::new(
            self.store.clock().now_ms(),
            actor,
            &source.0,
            action,
            subject,
            detail,
            outcome,
        );
        Ok(self.store.append_trail(&record).await?)
    }

    /// Refuses, and records the refusal, when the caller's role does not allow
    /// `permission`.
    pub async fn require_permission(
        &self,
        by: &Caller,
        source: &RequestSource,
        permission: Permission,
        action: OperatorAction,
        subject: &str,
    ) -> Result<(), ServiceError> {
        let Caller::Operator(operator) = by else { return Ok(()) };
        if allows(operator.role, permission) {
            return Ok(());
        }
        let error = forbidden(operator, permission);
        self.record_operator_action(operator.actor(), source, action, subject, "", Err(&error))
            .await?;
        Err(error)
    }

    /// Adds an account (administrators, or the command line: how the first administrator
    /// comes to exist).
    pub async fn add_operator(
        &self,
        by: &Caller,
        source: &RequestSource,
        name: &str,
        role: OperatorRole,
        password: &str,
    ) -> Result<SecondFactorEnrolment, ServiceError> {
        let subject =
            format!("operator:{}", normalize_name(name).unwrap_or_else(|| name.trim().to_owned()));
        let action = OperatorAction::OperatorAdded;
        self.require_permission(by, source, Permission::ManageOperators, action, &subject).await?;
        let result = self.add_operator_unrecorded(name, role, password).await;
        let detail = format!("role {}", role.as_str());
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject,
            &detail,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    async fn add_operator_unrecorded(
        &self,
        name: &str,
        role: OperatorRole,
        password: &str,
    ) -> Result<SecondFactorEnrolment, ServiceError> {
        let name = normalize_name(name).ok_or_else(|| {
            ServiceError::new(
                ErrorCode::OperatorNameInvalid,
                "A name is 2 to 32 letters, digits, '.', '-' or '_', starting with a letter.",
            )
        })?;
        let password = OperatorPassword::new(password, &name).map_err(|rejected| {
            ServiceError::new(ErrorCode::OperatorPasswordWeak, rejected.to_string())
        })?;
        let id = OperatorId::generate_from(&self.config.ids);
        let secret = TotpSecret::generate();
        let record = OperatorRecord {
            id,
            name: name.clone(),
            role,
            password_hash: self.hash_operator_password(&password).await?,
            totp_secret_sealed: self.seal_totp(id, &secret)?,
            totp_last_step: None,
            disabled: false,
            locked_until_ms: None,
            created_at_ms: self.store.clock().now_ms(),
        };
        if !self.store.add_operator(&record).await? {
            return Err(ServiceError::new(
                ErrorCode::OperatorNameTaken,
                format!("There is an operator named {name} already."),
            ));
        }
        Ok(SecondFactorEnrolment {
            operator: SignedInOperator::from_record(&record),
            totp_secret: secret.to_base32(),
            provisioning_uri: secret.provisioning_uri(TOTP_ISSUER, &name),
        })
    }

    /// Signs in with name, password and one-time code. Every failure answers alike (which
    /// of the three was wrong is not said) and counts against the account atomically,
    /// before the password is checked; an unknown name costs the same argon2 work. The
    /// attempt is recorded in the trail whatever its outcome.
    pub async fn operator_sign_in(
        &self,
        name: &str,
        password: &str,
        one_time_code: &str,
        source: &RequestSource,
    ) -> Result<OperatorSession, ServiceError> {
        let typed_name = name.trim();
        let result = self.operator_sign_in_unrecorded(typed_name, password, one_time_code).await;
        let actor = match &result {
            Ok(session) => session.operator.actor(),
            Err(_) => Actor {
                operator_id: None,
                name: normalize_name(typed_name).unwrap_or_else(|| typed_name.to_owned()),
            },
        };
        let subject = format!("operator:{}", actor.name);
        self.record_operator_action(
            actor,
            source,
            OperatorAction::SignIn,
            &subject,
            "",
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    async fn operator_sign_in_unrecorded(
        &self,
        name: &str,
        password: &str,
        one_time_code: &str,
    ) -> Result<OperatorSession, ServiceError> {
        let policy = self.config.operator_policy;
        let password = OperatorPassword::typed(password).ok_or_else(sign_in_failed)?;
        let record = match normalize_name(name) {
            Some(name) => self.store.operator_by_name(&name).await?,
            None => None,
        };
        let Some(record) = record.filter(|record| !record.disabled) else {
            let decoy = self.decoy_pin_hash().await?;
            let _ = self.check_operator_password(&password, decoy).await;
            return Err(sign_in_failed());
        };
        let now = self.store.clock().now_ms();
        let locks = match self
            .store
            .take_sign_in_attempt(
                record.id,
                policy.sign_in_attempts_max,
                now,
                now + policy.sign_in_lock_ms,
            )
            .await?
        {
            PinAttempt::Locked { until_ms } => {
                return Err(operator_locked(until_ms, now, self.platform_zone()));
            }
            PinAttempt::Taken { locks, .. } => locks,
        };
        let password_right =
            self.check_operator_password(&password, record.password_hash.clone()).await?;
        let secret = self.open_totp(record.id, &record.totp_secret_sealed)?;
        let step = secret.accept(one_time_code, now, record.totp_last_step);
        // The step is taken only after the password proved right, so that guessing
        // passwords cannot burn the operator's codes.
        let code_right = match (password_right, step) {
            (true, Some(step)) => self.store.use_totp_step(record.id, step).await?,
            _ => false,
        };
        if !code_right {
            if locks {
                return Err(operator_locked(
                    now + policy.sign_in_lock_ms,
                    now,
                    self.platform_zone(),
                ));
            }
            return Err(sign_in_failed());
        }
        self.store.reset_sign_in_failures(record.id).await?;
        let token = format!("tfo_{}", customers::random_token());
        let expires_at_ms = now + policy.session_ttl_ms;
        self.store
            .add_operator_session(&token, record.id, now, expires_at_ms, policy.sessions)
            .await?;
        Ok(OperatorSession {
            token,
            expires_at_ms,
            operator: SignedInOperator::from_record(&record),
        })
    }

    /// The operator a session token belongs to, if the session is live and the account
    /// enabled.
    pub async fn signed_in_operator(&self, token: &str) -> Result<SignedInOperator, ServiceError> {
        let session_ended = || {
            ServiceError::new(
                ErrorCode::OperatorSessionInvalid,
                "This session has ended; sign in again.",
            )
        };
        if !token.starts_with("tfo_") || token.len() > 100 {
            return Err(session_ended());
        }
        let now = self.store.clock().now_ms();
        let idle_ms = self.config.operator_policy.sessions.idle_ms;
        let id =
            self.store.operator_session(token, now, idle_ms).await?.ok_or_else(session_ended)?;
        let record = self.store.operator(id).await?.ok_or_else(session_ended)?;
        Ok(SignedInOperator::from_record(&record))
    }

    /// Ends this session.
    pub async fn operator_sign_out(
        &self,
        operator: &SignedInOperator,
        token: &str,
        source: &RequestSource,
    ) -> Result<(), ServiceError> {
        self.store.end_operator_session(token).await?;
        let subject = format!("operator:{}", operator.name);
        self.record_operator_action(
            operator.actor(),
            source,
            OperatorAction::SignOut,
            &subject,
            "",
            Ok(()),
        )
        .await?;
        Ok(())
    }

    /// Ends every session of the operator, on every device; how many ended.
    pub async fn operator_sign_out_everywhere(
        &self,
        operator: &SignedInOperator,
        source: &RequestSource,
    ) -> Result<u64, ServiceError> {
        let ended = self.store.end_operator_sessions(operator.id).await?;
        let subject = format!("operator:{}", operator.name);
        let detail = format!("{ended} sessions ended");
        self.record_operator_action(
            operator.actor(),
            source,
            OperatorAction::SignOutEverywhere,
            &subject,
            &detail,
            Ok(()),
        )
        .await?;
        Ok(ended)
    }
}

pub(super) fn operator_locked(
    until_ms: i64,
    now_ms: i64,
    zone: &jiff::tz::TimeZone,
) -> ServiceError {
    ServiceError::new(
        ErrorCode::OperatorLocked,
        format!(
            "Too many failed sign-ins: this account is locked {}.",
            super::error::until_clock(until_ms, now_ms, zone)
        ),
    )
}
