//! Pay by sound at the counter: the open order's signed token as a burst of tones for the
//! speaker (`payment-sound`). No network: the token is the one the QR code carries, so an
//! offline counter is as payable by sound as by QR.

use payment_sound::Waveform;
use tillfund_core::OrderId;
use tillfund_core::payment_token::token_bytes;

use crate::counter::{Counter, CounterError};
use crate::error_code::CounterCode;
use crate::orders::OrderStatus;

impl Counter {
    /// The burst for an order still waiting for payment. A paid, cancelled or expired order
    /// has nothing to play: its token must not be handed out again.
    pub async fn payment_sound(&self, order_id: OrderId) -> Result<Waveform, CounterError> {
        let order = self.order(order_id).await?.ok_or(CounterError::Invalid {
            code: CounterCode::OrderNotFound,
            message: "There is no such order at this counter.".to_owned(),
        })?;
        if order.status != OrderStatus::Created {
            return Err(CounterError::Invalid {
                code: CounterCode::OrderNotWaiting,
                message: "Only an order waiting for payment plays its sound.".to_owned(),
            });
        }
        let sound_failed = |message: String| CounterError::Invalid {
            code: CounterCode::PaymentSoundFailed,
            message,
        };
        let bytes = token_bytes(&order.token).map_err(|error| sound_failed(error.to_string()))?;
        // Some milliseconds of modem work, off the async threads.
        tokio::task::spawn_blocking(move || payment_sound::encode(&bytes))
            .await
            .map_err(|error| sound_failed(error.to_string()))?
            .map_err(|error| sound_failed(error.to_string()))
    }
}

/// The setting that plays every new payment code's sound at once; absent means no (a quiet
/// shop hears nothing it did not ask for).
const PLAY_ON_NEW_ORDER: &str = "sound_on_new_order";

impl Counter {
    pub async fn sound_on_new_order(&self) -> Result<bool, CounterError> {
        Ok(self.store().setting(PLAY_ON_NEW_ORDER).await?.as_deref() == Some("on"))
    }

    pub async fn set_sound_on_new_order(&self, play: bool) -> Result<(), CounterError> {
        self.store().set_setting(PLAY_ON_NEW_ORDER, if play { "on" } else { "off" }).await?;
        Ok(())
    }
}
