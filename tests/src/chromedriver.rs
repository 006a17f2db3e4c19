//! chromedriver for the tests that drive a real browser (the wallet pages, the console).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::free_port;
use crate::process::{terminate, wait_with_timeout};

/// A chromedriver on a free port, stopped when dropped.
pub struct ChromeDriver {
    child: Child,
    pub url: String,
}

impl ChromeDriver {
    pub fn start() -> ChromeDriver {
        let port = free_port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (install it with `make deps`)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return ChromeDriver { child, url: format!("http://127.0.0.1:{port}") };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not listen on port {port}");
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        terminate(&self.child);
        if wait_with_timeout(&mut self.child, Duration::from_secs(10)).is_err() {
            let _ = self.child.kill();
        }
    }
}
