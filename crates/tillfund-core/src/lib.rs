//! The Tillfund domain shared by the counter app and the fund server.
//!
//! This crate does no IO and knows nothing of Tauri, HTTP or SQL: it is money, ids, and the
//! messages the counter and the server exchange. Both sides depend on it, so a change to the
//! protocol is a compile error on both sides at once.

pub mod bonus;
pub mod cash_count;
pub mod clock;
pub mod customer;
pub mod enrolment;
pub mod ids;
pub mod money;
pub mod payment_token;
pub mod pin;
pub mod protocol;
pub mod random;
pub mod settlement;
pub mod signing;

pub use clock::Clock;
pub use customer::{CustomerFieldError, DisplayName, MemberCode, PhoneNumber};
pub use ids::{
    CustomerId, InvalidId, MerchantId, OperatorId, OrderId, OutboxEntryId, ProposalId, StaffId,
    TerminalId,
};
pub use money::{Amount, Currency, MoneyError, PositiveAmount, UnsupportedCurrency};
pub use pin::{InvalidPin, PaymentPin};
