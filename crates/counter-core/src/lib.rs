//! The counter app's logic, free of Tauri so that tests drive it without a window.
//! The app's `commands/` are thin wrappers over what lives here.

pub mod cash_desk;
pub mod client;
pub mod connection;
pub mod counter;
pub mod drawer;
pub mod error_code;
pub mod orders;
pub mod payment_sound;
pub mod re_enrolment;
pub mod receipt;
pub mod redemptions;
pub mod refunds;
pub mod reversals;
pub mod settlement;
pub mod shift_report;
pub mod sim_bugs;
pub mod staff;
pub mod staff_sync;
pub mod store;
pub mod sync;
pub mod transport;
pub mod z_report;
