//! The cash drawer: most drawers hang off the receipt printer and open when the printer is
//! sent the drawer-kick command (ESC/POS `ESC p m t1 t2`). The counter kicks it after a cash
//! top-up is recorded, and a manager can kick it from Settings to test the wiring.
//!
//! The top-up is recorded first and never depends on the drawer: a drawer that does not
//! open is reported to the cashier, who opens it with its key.

use crate::counter::{Counter, CounterError};
use crate::error_code::CounterCode;
use crate::receipt::{ESC, Printer, send_to_printer};

/// ESC p 0 25 250: pulse pin 2 (connector pin 2, where drawers are wired by default) on
/// for 25 × 2 ms and off for 250 × 2 ms, long enough for the solenoid and short enough
/// that a second kick right after is not lost.
pub const DRAWER_KICK: [u8; 5] = [ESC, b'p', 0x00, 0x19, 0xFA];

/// The setting that says whether a cash top-up opens the drawer; absent means yes.
const OPEN_ON_CASH_TOP_UP: &str = "drawer_on_cash_top_up";

/// What became of the drawer after a cash top-up.
#[derive(Debug)]
pub enum DrawerAfterTopUp {
    /// The kick reached the printer.
    Opened,
    /// No printer is set, or the manager turned the kick off.
    NotAsked,
    /// The kick did not reach the printer: the cashier opens the drawer by hand.
    Failed(CounterError),
}

impl Counter {
    /// Sends the drawer kick to `printer`.
    pub async fn open_drawer(&self, printer: &Printer) -> Result<(), CounterError> {
        let target = printer.clone();
        let sent = tokio::task::spawn_blocking(move || send_to_printer(&target, &DRAWER_KICK))
            .await
            .map_err(|error| drawer_failed(&error.to_string()))?;
        sent.map_err(|error| drawer_failed(&format!("{}: {error}", printer.setting())))
    }

    /// Whether a cash top-up opens the drawer: yes unless a manager turned it off. Only
    /// asked once a printer is set (`open_drawer_after_top_up`).
    pub async fn drawer_on_cash_top_up(&self) -> Result<bool, CounterError> {
        Ok(self.store().setting(OPEN_ON_CASH_TOP_UP).await?.as_deref() != Some("off"))
    }

    pub async fn set_drawer_on_cash_top_up(&self, open: bool) -> Result<(), CounterError> {
        let value = if open { "on" } else { "off" };
        self.store().set_setting(OPEN_ON_CASH_TOP_UP, value).await?;
        Ok(())
    }

    /// Kicks the drawer after a cash top-up was recorded, when a printer is set and the
    /// setting allows it. Never an error: the top-up stands whatever the drawer does.
    pub async fn open_drawer_after_top_up(&self) -> DrawerAfterTopUp {
        let asked = async {
            match self.printer().await? {
                Some(printer) if self.drawer_on_cash_top_up().await? => Ok(Some(printer)),
                _ => Ok(None),
            }
        };
        let printer: Result<Option<Printer>, CounterError> = asked.await;
        match printer {
            Ok(Some(printer)) => match self.open_drawer(&printer).await {
                Ok(()) => DrawerAfterTopUp::Opened,
                Err(error) => DrawerAfterTopUp::Failed(error),
            },
            Ok(None) => DrawerAfterTopUp::NotAsked,
            Err(error) => DrawerAfterTopUp::Failed(error),
        }
    }
}

fn drawer_failed(reason: &str) -> CounterError {
    CounterError::Invalid {
        code: CounterCode::DrawerFailed,
        message: format!(
            "The cash drawer did not open (the printer did not take the command: {reason}). \
             Open it with its key."
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_kick_is_esc_p_on_pin_2_for_50_ms_then_500_ms_off() {
        assert_eq!(DRAWER_KICK, [0x1B, 0x70, 0x00, 0x19, 0xFA]);
    }

    #[tokio::test]
    async fn a_cash_top_up_kicks_the_drawer_once_a_printer_is_set_unless_turned_off() {
        let folder = tempfile::tempdir().unwrap();
        let counter = Counter::open(&folder.path().join("counter.sqlite")).await.unwrap();
        assert!(matches!(counter.open_drawer_after_top_up().await, DrawerAfterTopUp::NotAsked));
        let file = folder.path().join("printer.bin");
        counter.set_printer(&Printer::Device(file.clone())).await.unwrap();
        assert!(counter.drawer_on_cash_top_up().await.unwrap(), "on by default");
        assert!(matches!(counter.open_drawer_after_top_up().await, DrawerAfterTopUp::Opened));
        assert_eq!(std::fs::read(&file).unwrap(), DRAWER_KICK);

        counter.set_drawer_on_cash_top_up(false).await.unwrap();
        assert!(matches!(counter.open_drawer_after_top_up().await, DrawerAfterTopUp::NotAsked));
        assert_eq!(std::fs::read(&file).unwrap(), DRAWER_KICK, "no second kick");
        // The test button kicks whatever the setting says.
        let printer = counter.printer().await.unwrap().unwrap();
        counter.open_drawer(&printer).await.unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), [DRAWER_KICK, DRAWER_KICK].concat());
    }

    #[tokio::test]
    async fn a_printer_that_is_not_there_is_reported_with_a_stable_code() {
        let folder = tempfile::tempdir().unwrap();
        let counter = Counter::open(&folder.path().join("counter.sqlite")).await.unwrap();
        let gone = Printer::Device(folder.path().join("no-such-folder/lp0"));
        counter.set_printer(&gone).await.unwrap();
        let DrawerAfterTopUp::Failed(error) = counter.open_drawer_after_top_up().await else {
            panic!("a missing device is a failure");
        };
        assert_eq!(error.code(), "drawer_failed");
        assert!(error.to_string().contains("Open it with its key"), "{error}");
    }
}
