//! The counter's own refusals, one table: each code with its text in English and Chinese.
//! Refusals the server answers keep the server's code (`tillfund_core::protocol::ErrorCode`,
//! which has its own texts); fields the core refuses keep the core's.

macro_rules! counter_codes {
    ($( $variant:ident = $code:literal, $english:literal, $chinese:literal; )*) => {
        /// What the counter itself refuses with; the UI branches on `as_str()`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CounterCode {
            $( $variant, )*
        }

        impl CounterCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [CounterCode] = &[ $( CounterCode::$variant, )* ];

            pub const fn as_str(self) -> &'static str {
                match self { $( CounterCode::$variant => $code, )* }
            }

            pub const fn english(self) -> &'static str {
                match self { $( CounterCode::$variant => $english, )* }
            }

            pub const fn chinese(self) -> &'static str {
                match self { $( CounterCode::$variant => $chinese, )* }
            }
        }
    };
}

counter_codes! {
    // Enrolment and the connection.
    NotEnrolled = "not_enrolled", "This counter is not enrolled yet.", "本收银台尚未注册：请输入服务器地址和激活码。";
    ServerUrlInvalid = "server_url_invalid", "The server address is not valid.", "服务器地址不正确。";
    UnsyncedEntries = "unsynced_entries", "Top-ups, refunds, reversals or payment codes still wait for the server; let them finish before enrolling again.", "仍有充值、退款、撤销或付款码等待服务器，请等其完成后再重新登记。";
    AlreadyEnrolled = "already_enrolled", "This counter is enrolled already; a manager enrols it again in Settings.", "本收银台已登记：如需重新登记，请店长在设置中操作。";
    ServerUnreachable = "server_unreachable", "The server cannot be reached.", "无法连接服务器。";
    ServerAnswerUnreadable = "server_answer_unreadable", "The server's answer is not understood.", "无法识别服务器的回复。";
    CurrencyUnsupported = "currency_unsupported", "The counter's currency is not supported.", "不支持本收银台的币种。";
    LocalStorageFailed = "local_storage_failed", "The counter could not read its local data; it has been logged.", "收银台无法读取本地数据，已记录。";
    // Customers.
    CustomerNotFound = "customer_not_found", "No customer of this store has this member code or phone number.", "找不到该会员码或手机号对应的本店顾客。";
    CustomerNotBound = "customer_not_bound", "The customer is not bound to this store.", "该顾客未绑定本店：请顾客在钱包中添加本店。";
    // Staff.
    SignInRequired = "sign_in_required", "Sign in with your PIN first.", "请先登录。";
    ManagerRequired = "manager_required", "Only a manager may do this.", "此操作需店长登录。";
    StaffPinWrong = "staff_pin_wrong", "Wrong PIN.", "密码错误。";
    StaffLocked = "staff_locked", "Too many wrong PINs: locked for a while, or a manager resets the PIN.", "密码错误次数过多，已锁定 5 分钟，或由店长重设密码。";
    StaffPinInvalid = "staff_pin_invalid", "A staff PIN is 4 to 8 digits.", "员工密码须为 4 到 8 位数字。";
    StaffPinHashFailed = "staff_pin_hash_failed", "The PIN could not be stored.", "无法保存密码。";
    StaffNameInvalid = "staff_name_invalid", "A staff name is 1 to 40 characters.", "员工姓名须为 1 到 40 个字。";
    StaffNameTaken = "staff_name_taken", "A member of staff has this name already.", "已有同名员工。";
    StaffNotFound = "staff_not_found", "There is no such member of staff.", "没有该员工。";
    StaffIdInvalid = "staff_id_invalid", "This is not a staff id.", "员工编号不正确。";
    StaffInactive = "staff_inactive", "This member of staff is disabled.", "该员工已停用。";
    StaffLimitReached = "staff_limit_reached", "This counter has as many staff as it can keep; disable someone first.", "员工数量已达上限，请先停用一位员工。";
    RedemptionCodeInvalid = "redemption_code_invalid", "The customer's code is the 8 digits their wallet shows.", "兑现码为顾客钱包显示的 8 位数字。";
    RedemptionNotFound = "redemption_not_found", "There is no such payout at this counter.", "本收银台没有该笔兑现。";
    RedemptionWaiting = "redemption_waiting", "A payout with this code waits for the server's answer; press again with the same customer and amount.", "使用该兑现码的兑现正在等待服务器回复，请以相同顾客和金额再次点击。";
    RedemptionUnanswered = "redemption_unanswered", "The server's answer to this payout did not arrive; do not hand over the cash yet. Pressing Pay out again is safe.", "服务器未回复此次兑现，请暂勿付出现金。再次点击兑现是安全的。";
    StaffChangeOffline = "staff_change_offline", "Staff are kept on the server for the whole store: this change needs the server. Connect and try again.", "员工名单保存在服务器上，供全店收银台使用：此项更改需要联网，请连接后重试。";
    FirstStaffMustBeManager = "first_staff_must_be_manager", "The first member of staff is a manager.", "第一位员工须为店长。";
    LastManager = "last_manager", "This is the only manager; add another manager first.", "这是唯一的店长，请先添加另一位店长。";
    RoleInvalid = "role_invalid", "This is not a role.", "角色不正确。";
    // Sales and top-ups.
    OrderNotFound = "order_not_found", "There is no such order at this counter.", "本收银台没有该订单。";
    OrderIdInvalid = "order_id_invalid", "This is not an order id.", "订单编号不正确。";
    OrderNotWaiting = "order_not_waiting", "Only an order waiting for payment plays its sound.", "只有待付款的订单可以播放声波。";
    PaymentSoundFailed = "payment_sound_failed", "The payment sound could not be made; show the QR code instead.", "无法生成付款声波，请改用二维码。";
    OrderNotCancellable = "order_not_cancellable", "Only an order waiting for payment can be cancelled.", "只有待付款的订单可以取消。";
    RefundUnanswered = "refund_unanswered", "The refund's answer did not arrive; it is finished as soon as the counter is online, and pressing Refund again is safe.", "退款未收到服务器回复：联网后会自动完成，再次点击退款也不会重复退款。";
    EarlierRefundCompleted = "earlier_refund_completed", "An earlier refund of this order had not been answered; it has now gone through. Refund again if more is due.", "此订单之前的一笔退款未收到回复，现已完成。如需再退，请重新操作。";
    ReversalUnanswered = "reversal_unanswered", "The reversal's answer did not arrive; it is finished as soon as the counter is online, and pressing Reverse again is safe.", "撤销未收到服务器回复：联网后会自动完成，再次点击撤销也不会重复退还。";
    EarlierReversalCompleted = "earlier_reversal_completed", "An earlier reversal of this top-up had not been answered; it has now gone through. Reverse again if more is due.", "此笔充值之前的一次撤销未收到回复，现已完成。如需再撤销，请重新操作。";
    TopUpNotSynced = "top_up_not_synced", "This top-up has not reached the server yet: let it sync, then reverse it.", "此笔充值尚未同步到服务器：请等待同步后再撤销。";
    TopUpOfEarlierEnrolment = "top_up_of_earlier_enrolment", "This top-up was taken under an earlier enrolment of this counter (at another store or fund server, or one it kept no record of), so it cannot be reversed from here; the operator handles it.", "此笔充值记录于本收银台较早的登记下（其他门店或服务器，或未留记录的登记），无法在此撤销，请联系运营人员处理。";
    TopUpNotApplied = "top_up_not_applied", "The server refused this top-up, so it holds nothing to reverse: give the cash back by hand.", "服务器未接受此笔充值，无可撤销：请直接退还现金。";
    ConfirmationCodeWrong = "confirmation_code_wrong", "This confirmation code does not belong to this order: the order is not paid.", "确认码与订单不符。";
    TopUpNotFound = "top_up_not_found", "There is no such top-up at this counter.", "本收银台没有该充值记录。";
    EntryIdInvalid = "entry_id_invalid", "This is not a top-up number.", "充值编号不正确。";
    QrFailed = "qr_failed", "The payment code could not be drawn.", "无法生成付款码。";
    // The day.
    DayInvalid = "day_invalid", "This is not a day (YYYY-MM-DD).", "日期不正确（YYYY-MM-DD）。";
    DayHasUnsyncedEntries = "day_has_unsynced_entries", "Top-ups of the day still wait for the server; go online and let them sync first.", "当日还有未同步的充值：请联网等待同步后再关账。";
    DrawerAmountInvalid = "drawer_amount_invalid", "A drawer amount is from 0 to 1,000,000; a cash drop is more than zero, at most 100 a day.", "钱箱金额须在 0 至 1,000,000 之间；解款须大于零，每日最多 100 次。";
    DrawerCountStale = "drawer_count_stale", "Cash was taken or given back after the drawer was counted: count it again, then close.", "点数后又有现金收支：请重新点数后再关账。";
    DrawerCountNeeded = "drawer_count_needed", "Count the drawer first: the day's figures are shown, printed and exported after the blind count.", "请先清点钱箱：盲点后才能查看、打印和导出当日数据。";
    DrawerCounted = "drawer_counted", "The drawer of this day is counted already; its figures do not change.", "当日钱箱已点数，数额不再更改。";
    CashCountInvalid = "cash_count_invalid", "The count does not add up or is out of range.", "点数不一致或超出范围。";
    CashCountNoteNeeded = "cash_count_note_needed", "The drawer is over or short beyond the limit: write a note saying why.", "钱箱长短款超过限额：请填写原因。";
    TimeZoneInvalid = "time_zone_invalid", "The store's time zone is not known.", "门店时区不正确。";
    ExportFailed = "export_failed", "The file could not be written.", "无法写入文件。";
    // Printing and the customer display.
    PrinterNotSet = "printer_not_set", "No receipt printer is set; a manager sets it in Settings.", "尚未设置小票打印机：请店长在设置中设置。";
    PrinterInvalid = "printer_invalid", "The printer setting is not valid: tcp:HOST:PORT or device:PATH.", "打印机设置不正确：网络打印机写 tcp:主机:端口，USB 打印机写 device:设备路径。";
    PrinterUnreachable = "printer_unreachable", "The printer cannot be reached.", "无法连接打印机。";
    PrintFailed = "print_failed", "The receipt could not be printed.", "小票打印失败。";
    DrawerFailed = "drawer_failed", "The cash drawer did not open; open it with its key.", "钱箱未能打开，请用钥匙打开。";
    PrintJobNotFound = "print_job_not_found", "There is no such receipt to print.", "没有可打印的小票。";
    ReceiptFontMissing = "receipt_font_missing", "The receipt font is missing.", "缺少小票字体。";
    ReceiptRenderFailed = "receipt_render_failed", "The receipt could not be drawn.", "无法生成小票图片。";
    DisplayInvalid = "display_invalid", "The customer display cannot show this.", "顾客显示屏无法显示此内容。";
    DisplayFailed = "display_failed", "The customer display could not be opened.", "无法打开顾客显示屏。";
}

impl std::fmt::Display for CounterCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The Chinese text of a code the counter shows: its own, the server's, or the core's.
pub fn chinese_text(code: &str) -> Option<&'static str> {
    CounterCode::ALL
        .iter()
        .find(|counter_code| counter_code.as_str() == code)
        .map(|counter_code| counter_code.chinese())
        .or_else(|| tillfund_core::protocol::ErrorCode::parse(code).map(|code| code.chinese()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_named_once_and_has_both_texts() {
        let mut seen = std::collections::HashSet::new();
        for code in CounterCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert!(!code.english().is_empty() && !code.chinese().is_empty(), "{code}");
        }
        assert_eq!(chinese_text("staff_locked"), Some(CounterCode::StaffLocked.chinese()));
        assert_eq!(
            chinese_text("amount_malformed"),
            Some(tillfund_core::protocol::ErrorCode::AmountMalformed.chinese()),
            "the core's codes have the server's texts"
        );
        assert_eq!(chinese_text("no_such_code"), None);
    }
}
