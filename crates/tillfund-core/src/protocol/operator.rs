//! The operators' API: the reserve's status, sign-in and sessions, accounts and roles, and
//! the trail of what operators did.

use serde::{Deserialize, Serialize};

use crate::OperatorId;

/// The reserve monitor and yield state (`GET /v1/operator/status`). Amounts are minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerStatusBody {
    pub currency: String,
    pub reserve: i64,
    pub service: i64,
    pub reserve_threshold: i64,
    pub reserve_refill: i64,
    /// The most a wallet may hold after a top-up.
    #[serde(default)]
    pub wallet_cap: i64,
    /// The version of these limits operators set under four eyes; absent while the limits
    /// the server was started with apply.
    #[serde(default)]
    pub limits_version: Option<i64>,
    /// Set while the reserve is under its threshold and the service account cannot refill
    /// it: the operator must fund the reserve.
    pub reserve_alert: Option<String>,
    pub last_yield_day: Option<String>,
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The value as it is written on the wire and in the database.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<$name, String> {
                match text {
                    $($text => Ok($name::$variant),)*
                    other => Err(format!(
                        "'{}' is not a {}",
                        other.chars().take(40).collect::<String>(),
                        stringify!($name)
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// What an operator's account may do; the server decides what each role allows.
    OperatorRole {
        /// Reads figures, merchants, settlements and customers.
        Viewer => "viewer",
        /// Day-to-day work, and proposes changes to money rules.
        Operator => "operator",
        /// Approves what another operator proposed; works as an operator too.
        Approver => "approver",
        /// Manages operators' accounts and reads the trail; moves no money.
        Administrator => "administrator",
    }
);

text_enum!(
    /// What an operator did, as the trail records it.
    OperatorAction {
        SignIn => "sign_in",
        SignOut => "sign_out",
        SignOutEverywhere => "sign_out_everywhere",
        PasswordChanged => "password_changed",
        OperatorAdded => "operator_added",
        OperatorDisabled => "operator_disabled",
        OperatorEnabled => "operator_enabled",
        SecondFactorReset => "second_factor_reset",
        OperatorsListed => "operators_listed",
        TrailRead => "trail_read",
        StatusRead => "status_read",
        AuditRun => "audit_run",
        CustomerRead => "customer_read",
        CustomersSearched => "customers_searched",
        MerchantAdded => "merchant_added",
        ActivationCodeIssued => "activation_code_issued",
        ActivationCodeCancelled => "activation_code_cancelled",
        ProposalMade => "proposal_made",
        ProposalApproved => "proposal_approved",
        ProposalRejected => "proposal_rejected",
        ProposalWithdrawn => "proposal_withdrawn",
        /// A change made at once on the server's own command line (`fund-server …`).
        CommandLineChange => "command_line_change",
    }
);

/// Sign-in of an operator (`POST /v1/operator/sessions`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorSignInRequest {
    pub name: String,
    pub password: String,
    /// The six digits the operator's authenticator app shows now.
    pub one_time_code: String,
}

impl std::fmt::Debug for OperatorSignInRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OperatorSignInRequest")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An operator as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: OperatorId,
    pub name: String,
    pub role: OperatorRole,
}

/// A new session: `token` goes in `Authorization: Bearer …` on every operator request.
/// It is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorSessionBody {
    pub token: String,
    /// The session ends then, however busy.
    pub expires_at_ms: i64,
    /// It ends sooner when not used for this long.
    pub idle_timeout_ms: i64,
    pub operator: OperatorBody,
}

/// A new account (`POST /v1/operator/operators`, administrators).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewOperatorRequest {
    pub name: String,
    pub role: OperatorRole,
    /// 12 to 128 characters, not containing the name; the operator changes it after the
    /// first sign-in.
    pub password: String,
}

impl std::fmt::Debug for NewOperatorRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewOperatorRequest")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A second factor to scan into an authenticator app, shown once: for a new account, or
/// after an administrator reset a lost one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecondFactorBody {
    pub operator: OperatorBody,
    /// Base32, for typing into the app.
    pub totp_secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub provisioning_uri: String,
}

/// An account as an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorAccountBody {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: OperatorId,
    pub name: String,
    pub role: OperatorRole,
    pub disabled: bool,
    /// Set while too many failed sign-ins keep the account locked.
    pub locked_until_ms: Option<i64>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorAccountsBody {
    pub operators: Vec<OperatorAccountBody>,
}

/// An operator's own new password (`POST /v1/operator/password`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChangeRequest {
    pub current_password: String,
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChangeRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PasswordChangeRequest(…)")
    }
}

/// How many sessions a sign-out ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionsEndedBody {
    pub sessions_ended: u64,
}

/// One record of the operators' trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrailRecordBody {
    pub sequence: i64,
    pub at_ms: i64,
    /// Absent for a sign-in that did not succeed and for the command line.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub operator_id: Option<OperatorId>,
    /// The operator's name, or the name typed at a failed sign-in.
    pub operator_name: String,
    /// The client's address, or `cli`.
    pub source: String,
    pub action: OperatorAction,
    pub subject: String,
    pub detail: String,
    /// `ok`, or the error code that refused it.
    pub outcome: String,
    /// SHA-256 of this record and the one before, hex.
    pub hash: String,
}

/// A page of the trail, newest first; `next_before` asks for the page after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrailPageBody {
    pub records: Vec<TrailRecordBody>,
    pub next_before: Option<i64>,
}
