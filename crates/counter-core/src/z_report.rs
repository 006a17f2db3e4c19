//! The Z-report: a day's figures and the drawer's count as lines of label and value, in
//! the counter's language, for the screen (fixed-width text) and for the receipt printer
//! (which prints Chinese in GB18030, `receipt.rs`).

use crate::receipt::{LINE_WIDTH, Receipt, fit_columns, label_value_line};
use crate::settlement::{DayReport, money};

/// The language the manager reads the counter in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportLanguage {
    #[default]
    English,
    Chinese,
}

impl ReportLanguage {
    /// "zh…" is Chinese; anything else (or nothing) English, the counter's default.
    pub fn from_tag(tag: Option<&str>) -> ReportLanguage {
        match tag {
            Some(tag) if tag.trim().to_ascii_lowercase().starts_with("zh") => {
                ReportLanguage::Chinese
            }
            _ => ReportLanguage::English,
        }
    }

    fn pick(self, english: &'static str, chinese: &'static str) -> &'static str {
        match self {
            ReportLanguage::English => english,
            ReportLanguage::Chinese => chinese,
        }
    }
}

/// The count's clock time, "18:05", in the store's zone (UTC without one).
fn clock_time(ms: i64, zone: Option<&jiff::tz::TimeZone>) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|timestamp| {
            timestamp
                .to_zoned(zone.cloned().unwrap_or(jiff::tz::TimeZone::UTC))
                .strftime("%H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A cashier's name on the report's lines, so that label and value fit the paper.
const NAME_COLUMNS_MAX: usize = 12;

impl DayReport {
    /// The report's lines, label and value, in `language`.
    pub fn z_lines(
        &self,
        language: ReportLanguage,
        zone: Option<&jiff::tz::TimeZone>,
    ) -> Vec<(String, String)> {
        let say = |english, chinese| language.pick(english, chinese).to_owned();
        let amount = |minor: i64| money(minor, &self.currency);
        let counter = &self.counter;
        let mut lines = vec![(say("Top-ups", "充值笔数"), counter.top_up_count.to_string())];
        if counter.reversal_count > 0 {
            lines.push((say("Top-up cash", "充值现金"), amount(counter.cash)));
            lines.push((say("Reversals", "撤销笔数"), counter.reversal_count.to_string()));
            lines.push((say("Cash given back", "退还现金"), amount(counter.reversed_cash)));
        }
        if counter.redemption_count > 0 {
            if counter.reversal_count == 0 {
                lines.push((say("Top-up cash", "充值现金"), amount(counter.cash)));
            }
            lines.push((say("Cash-outs", "兑现笔数"), counter.redemption_count.to_string()));
            lines.push((say("Cash paid out", "兑现现金"), amount(counter.redeemed_cash)));
        }
        lines.extend([
            (say("Cash in drawer", "钱箱现金"), amount(counter.drawer_cash())),
            (say("Bonus given", "赠送金额"), amount(counter.bonus)),
            (say("Payments", "收款笔数"), counter.payment_count.to_string()),
            (say("Payments total", "收款金额"), amount(counter.payments)),
            (say("Refunds", "退款笔数"), counter.refund_count.to_string()),
            (say("Refunds total", "退款金额"), amount(counter.refunds)),
        ]);
        if let Some(server) = &self.server {
            lines.push((say("Net owed to store", "应付门店"), amount(server.net_owed_to_store)));
        }
        if let Some(count) = &self.cash_count {
            lines.push((say("Opening float", "备用金"), amount(count.opening_float)));
            if count.cash_drop_count > 0 {
                let label = match language {
                    ReportLanguage::English => format!("Cash drops ({})", count.cash_drop_count),
                    ReportLanguage::Chinese => format!("解款（{} 次）", count.cash_drop_count),
                };
                lines.push((label, amount(count.cash_dropped)));
            }
            lines.push((say("Expected in drawer", "钱箱应有"), amount(count.expected)));
            lines.push((say("Counted", "实点"), amount(count.counted)));
            let over_short = match count.over_short.signum() {
                1 => say("Over", "长款"),
                -1 => say("Short", "短款"),
                _ => say("Over/short", "长短款"),
            };
            lines.push((over_short, amount(count.over_short.abs())));
            lines.push((
                say("Counted by", "点数人"),
                format!("{} {}", count.counted_by, clock_time(count.counted_at_ms, zone)),
            ));
        }
        // The shift report: each cashier's cash left in the drawer, payments and refunds.
        for shift in &self.cashiers {
            let name = shift.name.as_deref().map_or_else(
                || say("(nobody)", "（未登录）"),
                |name| fit_columns(name, NAME_COLUMNS_MAX),
            );
            lines.push((format!("{name} {}", say("cash", "现金")), amount(shift.drawer_cash())));
            if shift.payment_count > 0 {
                lines.push((format!("{name} {}", say("payments", "收款")), amount(shift.payments)));
            }
            if shift.refund_count > 0 {
                lines.push((format!("{name} {}", say("refunds", "退款")), amount(shift.refunds)));
            }
        }
        if let Some(manager) = &self.closed_by {
            lines.push((say("Closed by", "关账人"), manager.clone()));
        }
        lines
    }

    /// How the day stands, the report's last line.
    fn state_line(&self, language: ReportLanguage, printed: bool) -> &'static str {
        match (self.closed, self.matches, printed) {
            (true, Some(true), _) => {
                language.pick("CLOSED, matches server", "已关账，与服务器一致")
            }
            (true, _, _) => language.pick("CLOSED, check with server", "已关账，请与服务器核对"),
            (false, _, true) => language.pick("OPEN (not a Z-report)", "未关账（非日结单）"),
            (false, Some(true), false) => {
                language.pick("open, matches server", "未关账，与服务器一致")
            }
            (false, Some(false), false) => {
                language.pick("open, DIFFERS from server", "未关账，与服务器不一致")
            }
            (false, None, false) => {
                language.pick("open, server unreachable", "未关账，无法连接服务器")
            }
        }
    }

    fn title(&self, language: ReportLanguage) -> String {
        format!("{} {}", language.pick("Z-REPORT", "日结单"), self.day)
    }

    /// The manager's note on the count, when there is one.
    fn note_line(&self, language: ReportLanguage) -> Option<String> {
        let note = self.cash_count.as_ref()?.note.as_deref()?;
        Some(format!("{}: {note}", language.pick("Note", "说明")))
    }

    /// The Z-report as shown on screen: the printer's 32 columns (Chinese takes two).
    pub fn z_report_text_in(
        &self,
        language: ReportLanguage,
        zone: Option<&jiff::tz::TimeZone>,
    ) -> String {
        let mut text =
            format!("{}\n{}\n{}\n", self.title(language), self.store, "-".repeat(LINE_WIDTH));
        for (label, value) in self.z_lines(language, zone) {
            text.push_str(&label_value_line(&label, &value));
            text.push('\n');
        }
        if let Some(note) = self.note_line(language) {
            text.push_str(&note);
            text.push('\n');
        }
        text.push_str(self.state_line(language, false));
        text.push('\n');
        text
    }

    /// The Z-report in English, as tools and logs read it.
    pub fn z_report_text(&self) -> String {
        self.z_report_text_in(ReportLanguage::English, None)
    }

    /// The Z-report as a receipt for the print queue (reprints come out marked COPY).
    pub fn receipt_in(
        &self,
        language: ReportLanguage,
        zone: Option<&jiff::tz::TimeZone>,
    ) -> Receipt {
        let mut footer = self.state_line(language, true).to_owned();
        if let Some(note) = self.note_line(language) {
            footer = format!("{note}\n{footer}");
        }
        Receipt {
            title: self.title(language),
            store: self.store.clone(),
            lines: self.z_lines(language, zone),
            qr: None,
            footer,
        }
    }

    pub fn receipt(&self) -> Receipt {
        self.receipt_in(ReportLanguage::English, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::CounterFigures;
    use tillfund_core::cash_count::CashCount;

    fn report() -> DayReport {
        DayReport {
            day: "2026-12-07".into(),
            store: "Demo Store".into(),
            currency: "CNY".into(),
            counter: CounterFigures {
                top_up_count: 2,
                cash: 30_000,
                bonus: 1_500,
                ..Default::default()
            },
            server: None,
            matches: Some(true),
            closed: true,
            hours: vec![],
            cash_count: Some(CashCount {
                opening_float: 20_000,
                drawer_cash: 30_000,
                cash_dropped: 10_000,
                cash_drop_count: 1,
                expected: 40_000,
                counted: 38_500,
                over_short: -1_500,
                denominations: vec![],
                counted_by: "Mia".into(),
                counted_at_ms: 1_796_634_300_000,
                note: Some("change given twice".into()),
            }),
            closed_by: Some("Mia".into()),
            cashiers: vec![
                crate::shift_report::CashierShift {
                    name: Some("Benedikt Alexander".into()),
                    top_up_count: 2,
                    cash: 30_000,
                    bonus: 1_500,
                    payment_count: 1,
                    payments: 4_500,
                    refund_count: 0,
                    refunds: 0,
                    reversal_count: 0,
                    reversed_cash: 0,
                    redemption_count: 0,
                    redeemed_cash: 0,
                    first_at_ms: 1_796_600_000_000,
                    last_at_ms: 1_796_630_000_000,
                },
                crate::shift_report::CashierShift {
                    name: None,
                    top_up_count: 0,
                    cash: 0,
                    bonus: 0,
                    payment_count: 0,
                    payments: 0,
                    refund_count: 1,
                    refunds: 700,
                    reversal_count: 0,
                    reversed_cash: 0,
                    redemption_count: 0,
                    redeemed_cash: 0,
                    first_at_ms: 1_796_610_000_000,
                    last_at_ms: 1_796_610_000_000,
                },
            ],
        }
    }

    #[test]
    fn the_count_is_on_the_report_in_either_language() {
        let zone = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        let english = report().z_report_text_in(ReportLanguage::English, Some(&zone));
        for (label, value) in [
            ("Opening float", "200.00"),
            ("Cash drops (1)", "100.00"),
            ("Expected in drawer", "400.00"),
            ("Counted", "385.00"),
            ("Short", "15.00"),
            ("Counted by", "Mia 17:05"),
            ("Benedikt Al~ cash", "300.00"),
            ("Benedikt Al~ payments", "45.00"),
            ("(nobody) cash", "0.00"),
            ("(nobody) refunds", "7.00"),
            ("Closed by", "Mia"),
        ] {
            let line = label_value_line(label, value);
            assert!(english.contains(&line), "{line:?} missing from\n{english}");
        }
        for line in ["Z-REPORT 2026-12-07", "Note: change given twice", "CLOSED, matches server"] {
            assert!(english.contains(line), "{line:?} missing from\n{english}");
        }
        let chinese = report().z_report_text_in(ReportLanguage::Chinese, Some(&zone));
        // "短款" is four columns wide: the value is pushed right by two fewer spaces.
        assert!(chinese.contains(&format!("短款{:>28}", "15.00")), "{chinese}");
        for line in
            ["日结单 2026-12-07", "备用金", "说明: change given twice", "已关账，与服务器一致"]
        {
            assert!(chinese.contains(line), "{line:?} missing from\n{chinese}");
        }
        // Every line fits the paper, Chinese taking two columns.
        for line in chinese.lines().filter(|line| !line.starts_with("说明")) {
            let columns: usize = line.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
            assert!(columns <= LINE_WIDTH, "{line:?} is {columns} columns");
        }
        let receipt = report().receipt_in(ReportLanguage::Chinese, Some(&zone));
        let bytes = receipt.escpos(false);
        let (printed, _, _) = encoding_rs::GB18030.decode(&bytes);
        assert!(printed.contains("钱箱应有") && printed.contains("已关账"), "{printed}");
    }

    #[test]
    fn the_language_follows_the_tag() {
        assert_eq!(ReportLanguage::from_tag(Some("zh-CN")), ReportLanguage::Chinese);
        assert_eq!(ReportLanguage::from_tag(Some("en")), ReportLanguage::English);
        assert_eq!(ReportLanguage::from_tag(None), ReportLanguage::English);
    }
}
