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

#[test]
fn the_png_rendering_shows_the_receipt_with_its_qr_code() {
    use counter_core::receipt::load_receipt_font;
    let font = load_receipt_font().expect("make deps installs fonts-wqy-microhei");
    let mut with_qr = receipt();
    with_qr.qr = Some("http://127.0.0.1:8700/pay?t=AAAA".into());
    let png = with_qr.png(&font, true).unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(image.width(), 384);
    assert!(image.height() > 384, "text rows and a QR code: {}", image.height());
    let dark = image.pixels().filter(|pixel| pixel.0[0] < 128).count();
    let share = dark as f64 / f64::from(image.width() * image.height());
    assert!((0.05..0.6).contains(&share), "ink on {share:.2} of the receipt");
    // The top rows carry text (COPY, title): not blank.
    let top_ink = (0..image.width())
        .flat_map(|x| (8..70).map(move |y| (x, y)))
        .filter(|(x, y)| image.get_pixel(*x, *y).0[0] < 128)
        .count();
    assert!(top_ink > 100, "{top_ink}");
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/receipts");
    std::fs::create_dir_all(&directory).unwrap();
    std::fs::write(directory.join("top-up.png"), png).unwrap();
}

#[tokio::test]
async fn the_printer_is_a_setting_that_is_checked() {
    let directory = tempfile::tempdir().unwrap();
    let counter = Counter::open(&directory.path().join("counter.sqlite")).await.unwrap();
    assert_eq!(counter.printer().await.unwrap(), None);
    let printer = Printer::parse("tcp:192.168.1.50:9100").unwrap();
    assert_eq!(printer, Printer::Network("192.168.1.50:9100".into()));
    counter.set_printer(&printer).await.unwrap();
    assert_eq!(counter.printer().await.unwrap(), Some(printer));
    assert_eq!(
        Printer::parse("device:/dev/usb/lp0").unwrap(),
        Printer::Device("/dev/usb/lp0".into())
    );
    for bad in ["", "tcp:", "tcp:host", "tcp:host:99999", "device:lp0", "lp0"] {
        assert_eq!(Printer::parse(bad).unwrap_err().code(), "printer_invalid", "{bad}");
    }
}
