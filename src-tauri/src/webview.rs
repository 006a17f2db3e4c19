//! How the app's web views are set up: drawn without WebKit's accelerated compositing, and
//! brought back when their web process dies.
//!
//! WebKitGTK runs each page in a separate web process. When it dies (a crash inside WebKit,
//! or the kernel's OOM killer on a store PC short of memory) WebKit leaves the window blank
//! and the counter unusable until someone restarts the app. Everything the counter keeps is
//! in its database and in this process, not in the page, so loading the page again brings
//! the counter back: the cashier still signed in (the shift is this process's), on the Sale
//! screen. What the page held is gone: an open payment code is no longer on screen (it
//! stays payable and expires as before), and the answer
//! to a command in flight is lost (the Top-up screen's recent list shows whether a top-up
//! was recorded before taking the cash again).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// At most this many reloads of one window in [`RELOAD_WINDOW`]: a page that kills its web
/// process every time it loads would otherwise reload for ever, burning the CPU the other
/// windows need. Past it the window stays blank and the log says why.
const RELOADS_MAX: usize = 3;
const RELOAD_WINDOW: Duration = Duration::from_secs(60);

/// Sets up a window's web view: see the module's comment and [`without_hardware_acceleration`].
pub fn prepare(window: &tauri::WebviewWindow) {
    without_hardware_acceleration(window);
    reload_when_web_process_dies(window);
}

/// The counter's screens are flat text, tables and a QR image: WebKit's accelerated
/// compositing buys nothing there and costs ~75 MB in the web process (measured with
/// `make bench-app`), more on a store PC without a GPU, where it falls back to software
/// GL. Every window of the app draws without it, unless `TILLFUND_WEBVIEW_GPU=1` (the
/// WebDriver test sets it: WebKitWebDriver's screenshots stall without compositing).
fn without_hardware_acceleration(window: &tauri::WebviewWindow) {
    if std::env::var("TILLFUND_WEBVIEW_GPU").is_ok_and(|value| value == "1") {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        if let Err(error) = applied {
            tracing::warn!(%error, "cannot turn hardware acceleration off");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// Reloads the page when its web process dies, within [`RELOADS_MAX`] a minute.
fn reload_when_web_process_dies(window: &tauri::WebviewWindow) {
    #[cfg(target_os = "linux")]
    {
        let label = window.label().to_owned();
        let connected = window.with_webview(move |webview| {
            use std::cell::RefCell;
            use webkit2gtk::WebViewExt;
            // GTK calls the handler on its main thread only: a RefCell is enough.
            let reloads = RefCell::new(ReloadBudget::default());
            webview.inner().connect_web_process_terminated(move |view, reason| {
                if reloads.borrow_mut().allow(Instant::now()) {
                    tracing::error!(window = %label, ?reason, "web process died; loading the page again");
                    view.reload();
                } else {
                    tracing::error!(
                        window = %label,
                        ?reason,
                        "web process died again; {RELOADS_MAX} reloads within {RELOAD_WINDOW:?} already, \
                         the window stays blank until the app is restarted"
                    );
                }
            });
        });
        if let Err(error) = connected {
            tracing::warn!(%error, "cannot watch the web process");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// The times of the latest reloads of one window.
#[derive(Debug, Default)]
struct ReloadBudget {
    recent: VecDeque<Instant>,
}

impl ReloadBudget {
    /// Whether one more reload at `now` stays within the budget (and counts it if so).
    fn allow(&mut self, now: Instant) -> bool {
        while self.recent.front().is_some_and(|at| now.duration_since(*at) >= RELOAD_WINDOW) {
            self.recent.pop_front();
        }
        if self.recent.len() >= RELOADS_MAX {
            return false;
        }
        self.recent.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reloads_at_most_three_times_a_minute() {
        let start = Instant::now();
        let mut budget = ReloadBudget::default();
        for second in [0, 1, 2] {
            assert!(budget.allow(start + Duration::from_secs(second)));
        }
        assert!(!budget.allow(start + Duration::from_secs(3)), "a fourth within the minute");
        assert!(!budget.allow(start + Duration::from_secs(59)));
        // The first reload leaves the minute: one more is allowed, then none again.
        assert!(budget.allow(start + Duration::from_secs(60)));
        assert!(!budget.allow(start + Duration::from_secs(60)));
        assert!(budget.allow(start + Duration::from_secs(200)));
    }
}
