//! `ui/types.d.ts`: the TypeScript shapes of what the commands return and the events
//! carry, generated from the Rust types so the UI cannot drift from them. The UI is plain
//! JavaScript; its JSDoc annotations import these.
//!
//! `UPDATE_UI_TYPES=1 cargo test -p tillfund-counter --lib ui_types` rewrites the file;
//! without it the test fails when the committed file differs from the generated one.

use ts_rs::TS;

use crate::commands;

/// Every type the UI receives, in the order the file lists them.
fn declarations() -> Vec<String> {
    use counter_core as core;
    vec![
        commands::CommandError::decl(),
        core::connection::ConnectionState::decl(),
        core::connection::ConnectionStatus::decl(),
        commands::counter::ProfileView::decl(),
        core::staff::Role::decl(),
        core::staff::StaffMember::decl(),
        core::staff::StaffSession::decl(),
        commands::staff::StaffState::decl(),
        commands::counter::TopUpPreviewView::decl(),
        commands::counter::TopUpView::decl(),
        commands::counter::TopUpStatusView::decl(),
        core::store::RecentTopUp::decl(),
        core::reversals::ReversalDone::decl(),
        core::redemptions::RedemptionDone::decl(),
        commands::redemption::RedemptionView::decl(),
        commands::drawer_kick::DrawerSettings::decl(),
        commands::sound::SoundSettings::decl(),
        commands::enrolment::ReEnrolmentView::decl(),
        commands::counter::OrderView::decl(),
        core::orders::OrderSummary::decl(),
        commands::counter::CustomerView::decl(),
        commands::sync::NeedsAttentionItem::decl(),
        commands::sync::SyncStatus::decl(),
        core::settlement::CounterFigures::decl(),
        core::settlement::HourTakings::decl(),
        core::shift_report::CashierShift::decl(),
        tillfund_core::settlement::SettlementFigures::decl(),
        tillfund_core::cash_count::DenominationCount::decl(),
        tillfund_core::cash_count::CashCount::decl(),
        core::cash_desk::CashDrop::decl(),
        core::cash_desk::DrawerDay::decl(),
        tillfund_core::protocol::SettlementBody::decl(),
        core::settlement::DayReport::decl(),
        commands::counter::DayReportView::decl(),
        commands::display::CustomerDisplay::decl(),
        crate::events::OrderPaid::decl(),
    ]
}

/// The file's text. ts-rs writes 64-bit integers as `bigint`, but serde sends JSON
/// numbers, which JavaScript reads as `number`; every such value here (minor units, at
/// most 2^53 − 1 by `Amount`'s bound, and milliseconds since 1970) is exact in one.
pub fn generate() -> String {
    let mut text = String::from(
        "// Generated from the Rust types by src-tauri/src/ui_types.rs; do not edit.\n\
         // Regenerate: UPDATE_UI_TYPES=1 cargo test -p tillfund-counter --lib ui_types\n\n",
    );
    for declaration in declarations() {
        text.push_str("export ");
        text.push_str(&declaration.replace("bigint", "number"));
        text.push_str("\n\n");
    }
    text.truncate(text.trim_end().len());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn ui_types_are_generated_from_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/types.d.ts");
        let generated = super::generate();
        if std::env::var_os("UPDATE_UI_TYPES").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/types.d.ts is not what the Rust types give; run \
             UPDATE_UI_TYPES=1 cargo test -p tillfund-counter --lib ui_types and commit it"
        );
        for name in ["OrderView", "DayReport", "StaffSession", "CustomerDisplay"] {
            assert!(generated.contains(&format!("export type {name} =")), "{name}");
        }
        assert!(!generated.contains("bigint"));
    }
}
