//! What each role may do. The roles are declared with the wire types
//! (`tillfund_core::protocol::OperatorRole`); what they allow is decided here only.

use tillfund_core::protocol::OperatorRole;

/// One kind of thing an operator may do; each handler and use case names the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the figures, the merchants, the settlements and customers (each read of a
    /// customer's personal data is recorded).
    Read,
    /// Day-to-day work that moves no money and changes no money rule: merchants, counters,
    /// activation codes.
    DayToDay,
    /// Propose a change to money or its rules; it waits for an approver.
    Propose,
    /// Approve or reject what another operator proposed.
    Approve,
    /// Add, disable and re-enable operators, reset their second factor.
    ManageOperators,
    /// Read and export the operators' audit trail.
    ReadTrail,
    /// Run the ledger's audit from the console or the API (it reads the whole journal).
    RunAudit,
}

/// Whether `role` may do what `permission` names.
///
/// An approver also works as an operator: a small office has two seniors who check each
/// other. Administrators manage accounts and read the trail but neither propose nor
/// approve, so whoever gives out accounts cannot also move money with them.
pub fn allows(role: OperatorRole, permission: Permission) -> bool {
    use Permission::*;
    match role {
        OperatorRole::Viewer => matches!(permission, Read),
        OperatorRole::Operator => matches!(permission, Read | DayToDay | Propose),
        OperatorRole::Approver => {
            matches!(permission, Read | DayToDay | Propose | Approve | ReadTrail | RunAudit)
        }
        OperatorRole::Administrator => {
            matches!(permission, Read | ManageOperators | ReadTrail | RunAudit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_approvers_approve_and_only_administrators_manage_accounts() {
        let roles = [
            OperatorRole::Viewer,
            OperatorRole::Operator,
            OperatorRole::Approver,
            OperatorRole::Administrator,
        ];
        for role in roles {
            assert!(allows(role, Permission::Read), "everyone reads");
            assert_eq!(allows(role, Permission::Approve), role == OperatorRole::Approver);
            assert_eq!(
                allows(role, Permission::ManageOperators),
                role == OperatorRole::Administrator
            );
        }
        assert!(!allows(OperatorRole::Viewer, Permission::DayToDay));
        assert!(!allows(OperatorRole::Viewer, Permission::Propose));
        assert!(!allows(OperatorRole::Administrator, Permission::Propose));
        assert!(!allows(OperatorRole::Operator, Permission::ReadTrail));
        assert!(!allows(OperatorRole::Viewer, Permission::RunAudit));
        assert!(!allows(OperatorRole::Operator, Permission::RunAudit));
        assert!(allows(OperatorRole::Approver, Permission::RunAudit));
    }
}
