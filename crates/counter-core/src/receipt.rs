//! Receipts: a plain model rendered to the ESC/POS bytes a thermal printer understands,
//! with the printer's own QR command and Chinese text in GB18030, and a print queue that
//! sends jobs to a device file or a network printer (TCP port 9100).

use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::counter::{Counter, CounterError, now_ms};
use crate::error_code::CounterCode;
use crate::store::LocalStoreError;

/// Characters per line on a 58 mm printer with the standard font.
pub const LINE_WIDTH: usize = 32;
/// A network printer that does not take a job within this is reported as failed.
const PRINTER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub title: String,
    pub store: String,
    /// Label and value pairs, e.g. ("Amount", "38.50").
    pub lines: Vec<(String, String)>,
    /// Printed as a QR code by the printer itself (the payment URL).
    pub qr: Option<String>,
    pub footer: String,
}

/// Where receipts go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printer {
    /// A character device such as /dev/usb/lp0 (or any file).
    Device(std::path::PathBuf),
    /// A network printer, `host:port` (port 9100 for raw ESC/POS).
    Network(String),
}

pub(crate) const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const FS: u8 = 0x1c;

/// Text in GB18030, which Chinese receipt printers read in their Chinese mode.
fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    bytes.into_owned()
}

/// Display width of text on the printer: Chinese characters take two columns.
fn width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

pub(crate) fn label_value_line(label: &str, value: &str) -> String {
    let gap = LINE_WIDTH.saturating_sub(width(label) + width(value)).max(1);
    format!("{label}{}{value}", " ".repeat(gap))
}

/// The receipt's QR code at the paper's printable width.
/// `text` cut to `columns` printer columns (Chinese takes two), marked with "~" when cut.
pub(crate) fn fit_columns(text: &str, columns: usize) -> String {
    let width = |c: char| if c.is_ascii() { 1 } else { 2 };
    if text.chars().map(width).sum::<usize>() <= columns {
        return text.to_owned();
    }
    let mut fitted = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + width(c) > columns - 1 {
            break;
        }
        used += width(c);
        fitted.push(c);
    }
    fitted.push('~');
    fitted
}

fn receipt_qr(data: &str) -> Result<image::GrayImage, CounterError> {
    let code = qrcode::QrCode::new(data.as_bytes()).map_err(|error| CounterError::Invalid {
        code: CounterCode::QrFailed,
        message: error.to_string(),
    })?;
    let side = RECEIPT_WIDTH_PX - 2 * MARGIN_PX;
    Ok(code.render::<image::Luma<u8>>().max_dimensions(side, side).build())
}

/// Draws one row of text (or the rule) whose line starts `top` pixels down.
fn draw_row(image: &mut image::GrayImage, font: &ab_glyph::FontArc, row: &Row<'_>, top: u32) {
    let width = RECEIPT_WIDTH_PX as f32;
    let margin = MARGIN_PX as f32;
    let baseline = (top + LINE_HEIGHT_PX - 8) as f32;
    match row {
        Row::Centered(text) => {
            draw_text(image, font, text, (width - text_width(font, text)) / 2.0, baseline);
        }
        Row::Split(label, value) => {
            draw_text(image, font, label, margin, baseline);
            draw_text(image, font, value, width - margin - text_width(font, value), baseline);
        }
        Row::Rule => {
            for x in MARGIN_PX..RECEIPT_WIDTH_PX - MARGIN_PX {
                image.put_pixel(x, top + LINE_HEIGHT_PX / 2, image::Luma([0]));
            }
        }
    }
}

impl Receipt {
    /// The ESC/POS byte stream: initialise, Chinese mode, centred bold title, the lines,
    /// the QR code by the printer's native command (GS ( k), footer, feed and cut.
    pub fn escpos(&self, copy: bool) -> Vec<u8> {
        let mut bytes = vec![ESC, b'@', FS, b'&'];
        bytes.extend([ESC, b'a', 1, ESC, b'E', 1]);
        if copy {
            bytes.extend(gb18030("** COPY **\n"));
        }
        bytes.extend(gb18030(&format!("{}\n", self.title)));
        bytes.extend([ESC, b'E', 0]);
        bytes.extend(gb18030(&format!("{}\n", self.store)));
        bytes.extend([ESC, b'a', 0]);
        bytes.extend(gb18030(&format!("{}\n", "-".repeat(LINE_WIDTH))));
        for (label, value) in &self.lines {
            bytes.extend(gb18030(&format!("{}\n", label_value_line(label, value))));
        }
        if let Some(data) = &self.qr {
            bytes.extend([ESC, b'a', 1]);
            bytes.extend(qr_command(data.as_bytes()));
        }
        bytes.extend([ESC, b'a', 1]);
        bytes.extend(gb18030(&format!("{}\n", self.footer)));
        // Feed four lines and cut, leaving the paper ready to tear.
        bytes.extend([ESC, b'd', 4, GS, b'V', 66, 0]);
        bytes
    }
}

/// GS ( k: model 2, module size 6, error correction M, store the data, print it.
fn qr_command(data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![GS, b'(', b'k', 4, 0, 49, 65, 50, 0];
    bytes.extend([GS, b'(', b'k', 3, 0, 49, 67, 6]);
    bytes.extend([GS, b'(', b'k', 3, 0, 49, 69, 49]);
    let length = data.len() + 3;
    let [low, high] = u16::try_from(length).unwrap_or(u16::MAX).to_le_bytes();
    bytes.extend([GS, b'(', b'k', low, high, 49, 80, 48]);
    bytes.extend(data);
    bytes.extend([GS, b'(', b'k', 3, 0, 49, 81, 48]);
    bytes
}

impl Printer {
    /// Reads a setting: `tcp:HOST:PORT` or `device:PATH`.
    pub fn parse(setting: &str) -> Result<Printer, CounterError> {
        let invalid = || CounterError::Invalid {
            code: CounterCode::PrinterInvalid,
            message: format!(
                "'{setting}' is not a printer: write tcp:192.168.1.50:9100 for a network printer or \
                 device:/dev/usb/lp0 for a USB one"
            ),
        };
        match setting.trim().split_once(':') {
            Some(("tcp", address))
                if address.rsplit_once(':').is_some_and(|(host, port)| {
                    !host.is_empty() && port.parse::<u16>().is_ok()
                }) =>
            {
                Ok(Printer::Network(address.to_owned()))
            }
            Some(("device", path)) if path.starts_with('/') => Ok(Printer::Device(path.into())),
            _ => Err(invalid()),
        }
    }

    pub fn setting(&self) -> String {
        match self {
            Printer::Device(path) => format!("device:{}", path.display()),
            Printer::Network(address) => format!("tcp:{address}"),
        }
    }
}

/// Writes raw bytes to the printer: a receipt, or the drawer's kick (`drawer.rs`).
pub(crate) fn send_to_printer(printer: &Printer, bytes: &[u8]) -> std::io::Result<()> {
    match printer {
        Printer::Device(path) => {
            std::fs::OpenOptions::new().append(true).create(true).open(path)?.write_all(bytes)
        }
        Printer::Network(address) => {
            let socket_address =
                std::net::ToSocketAddrs::to_socket_addrs(address.as_str())?.next().ok_or_else(
                    || std::io::Error::new(std::io::ErrorKind::NotFound, "printer address"),
                )?;
            let mut stream =
                std::net::TcpStream::connect_timeout(&socket_address, PRINTER_TIMEOUT)?;
            stream.set_write_timeout(Some(PRINTER_TIMEOUT))?;
            stream.write_all(bytes)?;
            stream.flush()
        }
    }
}

fn local(error: sqlx::Error) -> CounterError {
    CounterError::Local(LocalStoreError::from(error))
}

impl Counter {
    /// Keeps the printer in the local settings.
    pub async fn set_printer(&self, printer: &Printer) -> Result<(), CounterError> {
        self.store().set_setting("printer", &printer.setting()).await?;
        Ok(())
    }

    /// The configured printer, `None` before one is set.
    pub async fn printer(&self) -> Result<Option<Printer>, CounterError> {
        match self.store().setting("printer").await? {
            Some(setting) => Printer::parse(&setting).map(Some),
            None => Ok(None),
        }
    }

    /// Queues a receipt and prints it; returns the job id. A printer that fails leaves the
    /// job `failed` with the reason; the sale is not affected.
    pub async fn print(&self, printer: &Printer, receipt: &Receipt) -> Result<i64, CounterError> {
        self.print_job(printer, receipt, None).await
    }

    /// Prints a receipt of an earlier job again, marked COPY.
    pub async fn reprint(&self, printer: &Printer, job_id: i64) -> Result<i64, CounterError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT receipt FROM print_jobs WHERE job_id = ?")
                .bind(job_id)
                .fetch_optional(self.store().pool())
                .await
                .map_err(local)?;
        let json = json.ok_or(CounterError::Invalid {
            code: CounterCode::PrintJobNotFound,
            message: format!("There is no print job {job_id}."),
        })?;
        let receipt: Receipt = serde_json::from_str(&json)
            .map_err(|error| CounterError::Local(LocalStoreError::Corrupt(error.to_string())))?;
        self.print_job(printer, &receipt, Some(job_id)).await
    }

    async fn print_job(
        &self,
        printer: &Printer,
        receipt: &Receipt,
        copy_of: Option<i64>,
    ) -> Result<i64, CounterError> {
        let json = serde_json::to_string(receipt)
            .map_err(|error| CounterError::Local(LocalStoreError::Corrupt(error.to_string())))?;
        let job_id: i64 = sqlx::query_scalar(
            "INSERT INTO print_jobs (receipt, copy_of, state, created_at_ms) VALUES (?, ?, 'queued', ?) RETURNING job_id",
        )
        .bind(json)
        .bind(copy_of)
        .bind(now_ms())
        .fetch_one(self.store().pool())
        .await
        .map_err(local)?;
        let bytes = receipt.escpos(copy_of.is_some());
        let printer = printer.clone();
        let sent = tokio::task::spawn_blocking(move || send_to_printer(&printer, &bytes))
            .await
            .map_err(|error| CounterError::Invalid {
                code: CounterCode::PrintFailed,
                message: error.to_string(),
            })?;
        let (state, error) = match &sent {
            Ok(()) => ("printed", None),
            Err(error) => ("failed", Some(error.to_string())),
        };
        sqlx::query(
            "UPDATE print_jobs SET state = ?, error = ?, printed_at_ms = ? WHERE job_id = ?",
        )
        .bind(state)
        .bind(&error)
        .bind(now_ms())
        .bind(job_id)
        .execute(self.store().pool())
        .await
        .map_err(local)?;
        sent.map_err(|error| CounterError::Invalid {
            code: CounterCode::PrinterUnreachable,
            message: format!("The printer did not take receipt {job_id}: {error}. Reprint it when the printer is back."),
        })?;
        Ok(job_id)
    }
}

/// Fonts tried, in order, for the PNG rendering: they must cover Chinese.
pub const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

/// Pixels across a 58 mm receipt at 203 dpi.
const RECEIPT_WIDTH_PX: u32 = 384;
const FONT_SIZE_PX: f32 = 22.0;
const LINE_HEIGHT_PX: u32 = 30;
const MARGIN_PX: u32 = 8;

/// A font that can draw receipts, loaded from the first of [`FONT_PATHS`] present.
pub fn load_receipt_font() -> Result<ab_glyph::FontArc, CounterError> {
    for path in FONT_PATHS {
        if let Ok(bytes) = std::fs::read(path) {
            if let Ok(font) = ab_glyph::FontVec::try_from_vec_and_index(bytes, 0) {
                return Ok(ab_glyph::FontArc::new(font));
            }
        }
    }
    Err(CounterError::Invalid {
        code: CounterCode::ReceiptFontMissing,
        message: format!(
            "No font with Chinese characters is installed (looked for {}).",
            FONT_PATHS.join(", ")
        ),
    })
}

enum Row<'a> {
    Centered(&'a str),
    Split(&'a str, &'a str),
    Rule,
}

fn text_width(font: &ab_glyph::FontArc, text: &str) -> f32 {
    use ab_glyph::{Font, ScaleFont};
    let scaled = font.as_scaled(FONT_SIZE_PX);
    text.chars().map(|character| scaled.h_advance(scaled.glyph_id(character))).sum()
}

fn draw_text(
    image: &mut image::GrayImage,
    font: &ab_glyph::FontArc,
    text: &str,
    x: f32,
    baseline: f32,
) {
    use ab_glyph::{Font, ScaleFont, point};
    let scaled = font.as_scaled(FONT_SIZE_PX);
    let mut caret = x;
    for character in text.chars() {
        let id = scaled.glyph_id(character);
        let glyph = id.with_scale_and_position(FONT_SIZE_PX, point(caret, baseline));
        caret += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else { continue };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = i64::from(gx) + bounds.min.x as i64;
            let py = i64::from(gy) + bounds.min.y as i64;
            if let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) {
                if px < image.width() && py < image.height() {
                    let ink = (coverage.clamp(0.0, 1.0) * 255.0) as u8;
                    let pixel = image.get_pixel_mut(px, py);
                    pixel.0[0] = pixel.0[0].min(255 - ink);
                }
            }
        });
    }
}

impl Receipt {
    /// The same receipt as a PNG, for the screen and for tests: what the paper shows.
    pub fn png(&self, font: &ab_glyph::FontArc, copy: bool) -> Result<Vec<u8>, CounterError> {
        let mut rows = Vec::new();
        if copy {
            rows.push(Row::Centered("** COPY **"));
        }
        rows.push(Row::Centered(&self.title));
        rows.push(Row::Centered(&self.store));
        rows.push(Row::Rule);
        for (label, value) in &self.lines {
            rows.push(Row::Split(label, value));
        }
        let qr = self.qr.as_deref().map(receipt_qr).transpose()?;
        let qr_height = qr.as_ref().map_or(0, |image| image.height() + MARGIN_PX);
        let rows_count = u32::try_from(rows.len() + 1).unwrap_or(u32::MAX);
        let height = 2 * MARGIN_PX + rows_count * LINE_HEIGHT_PX + qr_height;
        let mut image = image::GrayImage::from_pixel(RECEIPT_WIDTH_PX, height, image::Luma([255]));
        let width = RECEIPT_WIDTH_PX as f32;
        let mut top = MARGIN_PX;
        for row in &rows {
            draw_row(&mut image, font, row, top);
            top += LINE_HEIGHT_PX;
        }
        if let Some(qr) = qr {
            image::imageops::overlay(
                &mut image,
                &qr,
                i64::from((RECEIPT_WIDTH_PX - qr.width()) / 2),
                i64::from(top),
            );
            top += qr.height() + MARGIN_PX;
        }
        draw_text(
            &mut image,
            font,
            &self.footer,
            (width - text_width(font, &self.footer)) / 2.0,
            (top + LINE_HEIGHT_PX - 8) as f32,
        );
        let mut png = std::io::Cursor::new(Vec::new());
        image.write_to(&mut png, image::ImageFormat::Png).map_err(|error| {
            CounterError::Invalid {
                code: CounterCode::ReceiptRenderFailed,
                message: error.to_string(),
            }
        })?;
        Ok(png.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            title: "支付 Payment".into(),
            store: "Demo Store 示范店".into(),
            lines: vec![
                ("Amount 金额".into(), "38.50".into()),
                ("Order".into(), "T0001-P000001".into()),
            ],
            qr: Some("https://wallet.example/pay?t=abc".into()),
            footer: "谢谢 Thank you".into(),
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|window| window == needle)
    }

    #[test]
    fn escpos_has_chinese_in_gb18030_and_a_native_qr_command() {
        let bytes = receipt().escpos(false);
        assert!(bytes.starts_with(&[ESC, b'@', FS, b'&']));
        assert!(contains(&bytes, &gb18030("示范店")));
        assert!(contains(&bytes, &[0xca, 0xbe, 0xb7, 0xb6, 0xb5, 0xea]), "示范店 in GB18030");
        let data = b"https://wallet.example/pay?t=abc";
        let mut store = vec![GS, b'(', b'k', u8::try_from(data.len() + 3).unwrap(), 0, 49, 80, 48];
        store.extend(data);
        assert!(contains(&bytes, &store), "the QR data is stored with GS ( k");
        assert!(contains(&bytes, &[GS, b'(', b'k', 3, 0, 49, 81, 48]), "and printed");
        assert!(bytes.ends_with(&[GS, b'V', 66, 0]), "and the paper is cut");
        assert!(!contains(&bytes, b"** COPY **"));
        assert!(contains(&receipt().escpos(true), b"** COPY **"));
    }

    #[test]
    fn lines_fill_the_paper_width_counting_chinese_as_two_columns() {
        let line = label_value_line("Amount 金额", "38.50");
        assert_eq!(width(&line), LINE_WIDTH);
        assert_eq!(
            label_value_line(&"x".repeat(40), "1").len(),
            42,
            "an overlong label keeps one space"
        );
    }
}
