//! The print queue against a network printer that is really a TCP listener in the test.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use counter_core::counter::Counter;
use counter_core::receipt::{Printer, Receipt};

fn receipt() -> Receipt {
    Receipt {
        title: "充值 Top-up".into(),
        store: "Demo Store 示范店".into(),
        lines: vec![("Amount".into(), "500.00".into()), ("Bonus".into(), "50.00".into())],
        qr: None,
        footer: "T0001-00000001".into(),
    }
}

/// Accepts one connection and returns everything written to it.
fn fake_printer() -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut bytes = Vec::new();
        socket.read_to_end(&mut bytes).unwrap();
        bytes
    });
    (address, handle)
}

#[tokio::test]
async fn receipts_print_to_a_network_printer_and_reprints_say_copy() {
    let directory = tempfile::tempdir().unwrap();
    let counter = Counter::open(&directory.path().join("counter.sqlite")).await.unwrap();

    let (address, printed) = fake_printer();
    let job = counter.print(&Printer::Network(address), &receipt()).await.unwrap();
    let bytes = printed.join().unwrap();
    assert_eq!(bytes, receipt().escpos(false));

    let (address, printed) = fake_printer();
    let copy = counter.reprint(&Printer::Network(address), job).await.unwrap();
    assert_ne!(copy, job);
    let bytes = printed.join().unwrap();
    assert!(bytes.windows(10).any(|window| window == b"** COPY **"));

    // A printer that is off: the job is kept as failed and the cashier is told.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap().to_string();
    drop(closed);
    let error = counter.print(&Printer::Network(address), &receipt()).await.unwrap_err();
    assert_eq!(error.code(), "printer_unreachable");

    // A device file gets the same bytes.
    let device = directory.path().join("lp0");
    counter.print(&Printer::Device(device.clone()), &receipt()).await.unwrap();
    assert_eq!(std::fs::read(device).unwrap(), receipt().escpos(false));
}
