//! Operators' accounts for tests against the real binary: made on the command line, as the
//! platform's first administrator is, with an authenticator that hands out the codes.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use fund_server::operators::totp::{TotpSecret, step_at};

use crate::demo::fund_server_cli_with_input;
use crate::raw_counter::now_ms;

/// The password every test account gets (12 characters or more, not containing the name).
pub const OPERATOR_PASSWORD: &str = "correct horse battery";

/// Makes an account with `fund-server operator add` on the server's data directory and
/// returns its second factor, printed that once.
pub fn add_operator(data_dir: &Path, name: &str, role: &str) -> TotpSecret {
    let arguments = ["operator", "add", "--name", name, "--role", role];
    let (ok, stdout, stderr) =
        fund_server_cli_with_input(data_dir, &[], &arguments, &format!("{OPERATOR_PASSWORD}\n"));
    assert!(ok, "{stderr}");
    let secret = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("secret: "))
        .expect("the secret is printed once");
    TotpSecret::from_base32(secret).expect("a base32 secret")
}

/// An operator's phone: the code for each sign-in. The server takes each 30-second step
/// once per account and accepts one step either side of now, so a second sign-in within
/// the same step uses the next one, and a third waits for the clock.
pub struct Authenticator {
    secret: TotpSecret,
    last_step: Mutex<Option<i64>>,
}

impl Authenticator {
    pub fn new(secret: TotpSecret) -> Authenticator {
        Authenticator { secret, last_step: Mutex::new(None) }
    }

    /// A code the server has not seen yet, waiting for the next step when it must.
    pub async fn next_code(&self) -> String {
        loop {
            let now_step = step_at(now_ms());
            let step = {
                let mut last_step = self.last_step.lock().expect("not poisoned");
                let step = last_step.map_or(now_step, |last| now_step.max(last + 1));
                if step <= now_step + 1 {
                    *last_step = Some(step);
                    Some(step)
                } else {
                    None
                }
            };
            match step {
                Some(step) => return self.secret.code_at_step(step),
                None => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }
}
