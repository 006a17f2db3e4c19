//! The one shape of every refusal, and the one table of what the server can refuse with:
//! each code's HTTP status and its text in English and Chinese.
//!
//! The server answers only codes of this table (`ErrorCode`), so a code cannot be misspelt
//! or given two statuses. On the wire `ErrorBody::code` stays a string: a counter built
//! before a code was added still reads the answer, and shows its message.

use serde::{Deserialize, Serialize};

/// Every refusal of the API: a stable `code` that clients match on, and a `message` for
/// people. Each operation lists its codes under each status in the OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable, machine-readable; never changes meaning once published.
    #[cfg_attr(feature = "openapi", schema(value_type = ErrorCode))]
    pub code: String,
    /// Human-readable explanation; may change wording.
    pub message: String,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $status:literal, $english:literal, $chinese:literal; )*) => {
        /// Every code the server refuses with. Each operation lists those it can answer
        /// under the HTTP status each has; a code never changes its status or meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the table's order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code as clients see it, `snake_case`.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status the server answers it with.
            pub const fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// What it means, in English, for a person.
            pub const fn english(self) -> &'static str {
                match self { $( ErrorCode::$variant => $english, )* }
            }

            /// What it means, in Chinese, for a person.
            pub const fn chinese(self) -> &'static str {
                match self { $( ErrorCode::$variant => $chinese, )* }
            }

            /// The code named by `text`, if the table has it.
            pub fn parse(text: &str) -> Option<ErrorCode> {
                match text { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    // The request itself.
    BodyInvalid = "body_invalid", 422, "The request body is not valid JSON of the expected shape.", "请求内容格式不正确。";
    BodyTooLarge = "body_too_large", 413, "The request body is larger than the server accepts.", "请求内容过大。";
    QueryInvalid = "query_invalid", 422, "The query string is not valid.", "查询参数不正确。";
    RequestInvalid = "request_invalid", 400, "The request is not valid.", "请求无效。";
    RequestTimeout = "request_timeout", 408, "The request took too long and was abandoned; try again.", "请求超时，请重试。";
    ContentTypeUnsupported = "content_type_unsupported", 415, "Send the body as application/json.", "请以 application/json 格式发送。";
    MethodNotAllowed = "method_not_allowed", 405, "This address does not take this method.", "该地址不支持此方法。";
    NotFound = "not_found", 404, "There is nothing at this address.", "该地址不存在。";
    IdempotencyKeyMissing = "idempotency_key_missing", 400, "Money writes need an Idempotency-Key header.", "缺少幂等键（Idempotency-Key）。";
    IdempotencyKeyReused = "idempotency_key_reused", 409, "This Idempotency-Key was already used for a different request; use a new key.", "该幂等键已用于其他请求，请使用新的键。";
    TooManyAttempts = "too_many_attempts", 429, "Too many attempts; wait a moment and try again.", "尝试次数过多，请稍后再试。";
    BatchTooLarge = "batch_too_large", 422, "Too many entries in one push; send them in smaller batches.", "单次同步条目过多，请分批发送。";
    // Fields.
    AmountMalformed = "amount_malformed", 422, "The amount is not a number such as 12.50.", "金额格式不正确（例如 12.50）。";
    AmountTooManyDecimals = "amount_too_many_decimals", 422, "The amount has more decimals than the currency.", "金额小数位数过多。";
    AmountNotPositive = "amount_not_positive", 422, "The amount must be more than zero.", "金额必须大于零。";
    AmountOutOfRange = "amount_out_of_range", 422, "The amount is outside the supported range.", "金额超出允许范围。";
    PhoneInvalid = "phone_invalid", 422, "Enter a valid mobile number.", "请输入正确的手机号。";
    MemberCodeInvalid = "member_code_invalid", 422, "This is not a member code.", "会员码不正确。";
    DisplayNameInvalid = "display_name_invalid", 422, "A name is 1 to 40 characters, without control or invisible characters.", "请输入姓名（1 到 40 个字）。";
    PinInvalid = "pin_invalid", 422, "A payment PIN is 6 digits.", "支付密码必须是 6 位数字。";
    MerchantIdInvalid = "merchant_id_invalid", 422, "This is not a store id.", "门店编号不正确。";
    OrderIdInvalid = "order_id_invalid", 422, "This is not an order id.", "订单编号不正确。";
    TopUpEntryIdInvalid = "top_up_entry_id_invalid", 422, "This is not a top-up entry id.", "充值编号不正确。";
    DayInvalid = "day_invalid", 422, "This is not a day from 2000-01-01 to 2999-12-31 (YYYY-MM-DD).", "日期不正确（YYYY-MM-DD）。";
    ActionInvalid = "action_invalid", 422, "This action is not known.", "操作无效。";
    LabelInvalid = "label_invalid", 422, "A counter's name is 1 to 40 characters.", "收银台名称须为 1 到 40 个字。";
    PublicKeyInvalid = "public_key_invalid", 422, "The counter's enrolment key is not valid.", "收银台的注册密钥无效。";
    ReplacedTerminalUnproven = "replaced_terminal_unproven", 422, "The counter this enrolment replaces could not be confirmed: its key did not sign this enrolment.", "无法确认本次登记所替换的收银台：其密钥未签署本次登记。";
    MerchantNameInvalid = "merchant_name_invalid", 422, "A store name is 1 to 100 characters.", "门店名称须为 1 到 100 个字。";
    TimeZoneInvalid = "time_zone_invalid", 422, "This is not an IANA time zone name such as Asia/Shanghai.", "时区名称不正确（例如 Asia/Shanghai）。";
    BonusRuleInvalid = "bonus_rule_invalid", 422, "A bonus rule is not valid.", "赠送规则无效。";
    TooManyStores = "too_many_stores", 422, "Choose fewer stores when signing up.", "开通时选择的门店过多。";
    // Customers and their sessions.
    SessionMissing = "session_missing", 401, "Sign in first.", "请先登录。";
    SessionInvalid = "session_invalid", 401, "The session has ended; sign in again.", "登录已失效，请重新登录。";
    SignInFailed = "sign_in_failed", 401, "The phone number or the PIN is wrong.", "手机号或支付密码错误。";
    PinWrong = "pin_wrong", 401, "The payment PIN is wrong.", "支付密码错误。连续输错 5 次，钱包将锁定 15 分钟。";
    WalletLocked = "wallet_locked", 423, "Too many wrong PINs: the wallet is locked for a while.", "支付密码错误次数过多，钱包已暂时锁定，请稍后再试。";
    PhoneTaken = "phone_taken", 409, "A wallet with this phone number already exists; sign in instead.", "该手机号已开通钱包，请直接登录。";
    MerchantUnknown = "merchant_unknown", 404, "There is no such store.", "没有这家门店。";
    CustomerIdInvalid = "customer_id_invalid", 422, "This is not a customer id.", "顾客编号不正确。";
    CustomerUnknown = "customer_unknown", 404, "There is no such customer.", "没有该顾客。";
    CustomerNotBound = "customer_not_bound", 422, "The wallet is not bound to this store; add the store in the wallet first.", "您的钱包尚未绑定该门店：请先在钱包中添加该门店。";
    // Payments.
    TokenMalformed = "token_malformed", 422, "This is not a payment code.", "这不是有效的付款码。";
    TokenBadSignature = "token_bad_signature", 422, "This payment code was not made by an enrolled counter.", "这不是有效的付款码。";
    TokenExpired = "token_expired", 409, "The payment code has expired; ask the cashier for a new one.", "付款码已过期，请让收银员重新生成。";
    TokenExpiryTooFar = "token_expiry_too_far", 422, "The payment code is valid for longer than allowed.", "付款码有效期过长。";
    CurrencyMismatch = "currency_mismatch", 422, "The payment code is in another currency than this server's.", "付款码币种与服务器不一致。";
    OrderAlreadyPaid = "order_already_paid", 409, "This order is already paid.", "该订单已付款。";
    InsufficientFunds = "insufficient_funds", 422, "The wallet does not hold enough.", "余额不足。";
    WalletCapExceeded = "wallet_cap_exceeded", 422, "The wallet would hold more than its cap; give the cash back.", "钱包余额将超过上限，请退还现金。";
    OrderNotFound = "order_not_found", 404, "No paid order has this number.", "没有该已付款订单。";
    OrderOfAnotherMerchant = "order_of_another_merchant", 403, "This order was paid at another store.", "该订单在其他门店付款。";
    RefundExceedsPaid = "refund_exceeds_paid", 422, "The refund is more than what is left of the order.", "退款金额超过订单剩余金额。";
    // Top-ups and their reversal.
    TopUpNotFound = "top_up_not_found", 404, "No applied top-up has this number.", "没有该充值记录。";
    TopUpOfAnotherMerchant = "top_up_of_another_merchant", 403, "This top-up was taken at another store.", "该充值在其他门店办理。";
    ReversalExceedsTopUp = "reversal_exceeds_top_up", 422, "The reversal is more than what is left of the top-up.", "撤销金额超过充值剩余金额。";
    WalletInsufficient = "wallet_insufficient", 422, "The customer has already spent part of this top-up.", "顾客已使用部分充值，无法全额撤销。";
    DrawerInsufficient = "drawer_insufficient", 422, "The drawer has not taken enough cash today to give this back (the cash of days not yet closed belongs to their close); the operator must handle this reversal.", "钱箱今日收取的现金不足以退还此笔（未结算日的现金属于当日结算），请由运营方处理。";
    WalletClosed = "wallet_closed", 409, "This wallet is closed.", "该钱包已注销。";
    WalletChanged = "wallet_changed", 409, "The wallet changed since the code was given; the customer asks for a new code.", "钱包余额在获取兑现码后有变动，请顾客重新获取兑现码。";
    RedemptionCodeUsed = "redemption_code_used", 409, "This code was used at another counter or in another attempt; the customer asks for a new code.", "该兑现码已在其他收银台或其他操作中使用，请顾客重新获取。";
    RedemptionNotMade = "redemption_not_made", 409, "This payout was not made, and now never will be; the customer asks for a new code if they still want cash.", "此次兑现未完成，且不会再完成；如仍需兑现，请顾客重新获取兑现码。";
    RedemptionAttemptInvalid = "redemption_attempt_invalid", 422, "A payout's attempt id is 1 to 64 letters, digits or dashes.", "兑现操作编号须为 1 到 64 个字母、数字或短横线。";
    RedemptionCodeWrong = "redemption_code_wrong", 422, "This code does not match a live redemption code of this customer for this store and amount.", "兑现码与该顾客在本店的有效兑现码及金额不符。";
    RedemptionCodeInvalid = "redemption_code_invalid", 422, "A redemption code is 8 digits.", "兑现码为 8 位数字。";
    RedemptionDailyLimit = "redemption_daily_limit", 409, "This wallet has asked for as much cash as it may in 24 hours.", "该钱包 24 小时内申请兑现的金额已达上限。";
    RedemptionCodesLive = "redemption_codes_live", 409, "This wallet holds as many unused redemption codes as it may; use one or let them expire.", "该钱包未使用的兑现码已达上限，请先使用或等待过期。";
    RedemptionExceedsBalance = "redemption_exceeds_balance", 422, "The wallet's principal and yield do not cover this amount (bonus is never paid out).", "钱包本金与收益不足以兑付该金额（赠送金额不可兑现）。";
    RecordedAtOutOfRange = "recorded_at_out_of_range", 422, "The entry's time is later than the server received it, or older than a counter can be offline.", "记录时间晚于服务器接收时间或过于久远，请检查收银台时钟。";
    // The day's close.
    DayAlreadyClosed = "day_already_closed", 409, "This day is already closed.", "该营业日已结算。";
    DayInFuture = "day_in_future", 422, "This day has not begun yet.", "该营业日尚未开始。";
    // A store's staff.
    StaffIdInvalid = "staff_id_invalid", 422, "This is not a staff id.", "员工编号不正确。";
    StaffNameInvalid = "staff_name_invalid", 422, "A staff name is 1 to 40 characters, without control characters.", "员工姓名须为 1 到 40 个字，不含控制字符。";
    StaffRoleInvalid = "staff_role_invalid", 422, "A role is cashier or manager.", "角色须为收银员或店长。";
    StaffPinHashInvalid = "staff_pin_hash_invalid", 422, "A staff PIN is sent as its argon2id hash at the required cost.", "员工密码须以符合强度要求的 argon2id 哈希发送。";
    StaffNameTaken = "staff_name_taken", 409, "A member of this store's staff has this name already.", "本店已有同名员工。";
    StaffLimitReached = "staff_limit_reached", 409, "This store has as many staff as it can keep; disable someone first.", "本店员工数量已达上限，请先停用一位员工。";
    StoreHasStaff = "store_has_staff", 409, "This store has staff already: sign in as one of its managers to add someone.", "本店已有员工：请由店长登录后添加。";
    LastManager = "last_manager", 409, "This is the store's only active manager; add another manager first.", "这是本店唯一在职的店长，请先添加另一位店长。";
    CashCountInvalid = "cash_count_invalid", 422, "The drawer count does not add up or is out of range.", "钱箱点数不一致或超出范围。";
    CashCountNoteNeeded = "cash_count_note_needed", 422, "The drawer is over or short beyond the limit: the manager's note must say why.", "钱箱长短款超过限额：店长须填写原因。";
    DayNotOver = "day_not_over", 422, "This day is not over yet.", "该日尚未结束。";
    CatchUpTooLong = "catch_up_too_long", 422, "Too many days to accrue at once.", "一次需计息的天数过多。";
    // Counters and their signed requests.
    ActivationCodeUnknown = "activation_code_unknown", 404, "This activation code is not known.", "激活码不存在。";
    ActivationCodeUsed = "activation_code_used", 409, "This activation code has been used; ask the operator for a new one.", "激活码已被使用，请向运营方索取新的激活码。";
    ActivationCodeExpired = "activation_code_expired", 409, "This activation code has expired; ask the operator for a new one.", "激活码已过期，请向运营方索取新的激活码。";
    SignatureMissing = "signature_missing", 401, "The request is not signed by a counter.", "请求缺少收银台签名。";
    SignatureInvalid = "signature_invalid", 401, "The request's signature is wrong.", "请求签名错误。";
    ClockSkew = "clock_skew", 401, "The counter's clock is too far from the server's; set it right.", "收银台时钟与服务器相差过大，请校准。";
    RequestReplayed = "request_replayed", 401, "This signed request was sent before.", "该签名请求已被使用。";
    TerminalUnknown = "terminal_unknown", 401, "This counter is not enrolled.", "该收银台未注册。";
    TerminalRevoked = "terminal_revoked", 403, "This counter's enrolment was revoked; ask the operator for a new activation code.", "该收银台已被停用，请向运营方索取新的激活码。";
    // The operator.
    OperatorApiDisabled = "operator_api_disabled", 404, "The operator API is off on this server.", "该服务器未开启运营接口。";
    OperatorTokenInvalid = "operator_token_invalid", 401, "The operator token is wrong.", "运营令牌错误。";
    OperatorSignInFailed = "operator_sign_in_failed", 401, "The name, the password or the one-time code is wrong.", "用户名、密码或动态验证码错误。";
    OperatorLocked = "operator_locked", 423, "Too many failed sign-ins: this account is locked for a while.", "登录失败次数过多，该账户已暂时锁定。";
    OperatorSessionInvalid = "operator_session_invalid", 401, "This session has ended; sign in again.", "会话已结束，请重新登录。";
    FormExpired = "form_expired", 403, "This form has expired; open the page again.", "表单已过期，请重新打开页面。";
    OperatorForbidden = "operator_forbidden", 403, "Your role does not allow this.", "您的角色无权执行此操作。";
    OperatorUnknown = "operator_unknown", 404, "There is no such operator.", "没有该运营人员。";
    OperatorNameInvalid = "operator_name_invalid", 422, "A name is 2 to 32 letters, digits, '.', '-' or '_', starting with a letter.", "用户名须为 2 至 32 个字母、数字、“.”、“-”或“_”，并以字母开头。";
    OperatorNameTaken = "operator_name_taken", 409, "There is an operator with this name already.", "已有同名的运营人员。";
    OperatorPasswordWeak = "operator_password_weak", 422, "A password is 12 to 128 characters and may not contain the name.", "密码须为 12 至 128 个字符，且不得包含用户名。";
    ActivationCodeNotWaiting = "activation_code_not_waiting", 409, "This activation code is used, expired or cancelled already.", "该激活码已被使用、已过期或已取消。";
    ProposalUnknown = "proposal_unknown", 404, "There is no such proposal.", "没有该提案。";
    MerchantDaysOpen = "merchant_days_open", 409, "A store's time zone changes only when every day of it is closed: close its open days first.", "门店所有营业日结算后才能更改时区：请先结算未结算的营业日。";
    SettlementAccountInvalid = "settlement_account_invalid", 422, "A settlement account is at most 80 characters, on one line.", "结算账户最多 80 个字符，且不可换行。";
    AuditProblemsFound = "audit_problems_found", 409, "The audit found problems in the ledger or the operators' trail; see its report.", "审计发现账本或操作记录存在问题，请查看审计报告。";
    ReserveUnderThreshold = "reserve_under_threshold", 422, "The reserve would fall under its threshold; take out less, or lower the threshold first.", "备付金将低于警戒线：请减少转出金额，或先调低警戒线。";
    MoneyLimitInvalid = "money_limit_invalid", 422, "A wallet cap is more than zero, a reserve threshold and refill zero or more.", "钱包上限须大于零，备付金警戒线和补充金额须不小于零。";
    ProposalOutdated = "proposal_outdated", 409, "What this proposal changes has changed since it was proposed; propose it again.", "该提议所涉内容在提议后已被更改，请重新提议。";
    ProposalTargetUnknown = "proposal_target_unknown", 404, "The counter or customer this change names does not exist.", "该变更所指的收银台或客户不存在。";
    YieldRateInvalid = "yield_rate_invalid", 422, "An annual yield rate is a percentage from 0 to 100 with at most 6 decimals.", "年化收益率须为 0 至 100 之间的百分数，最多 6 位小数。";
    ProposalNotPending = "proposal_not_pending", 409, "This proposal has been decided already.", "该提案已有决定。";
    ProposalExpired = "proposal_expired", 409, "This proposal has expired; propose it again.", "该提案已过期，请重新提出。";
    ProposalOwnApproval = "proposal_own_approval", 403, "Four eyes: someone else must approve what you proposed.", "四眼原则：您提出的变更须由他人批准。";
    ProposalNoteTooLong = "proposal_note_too_long", 422, "A note is at most 500 characters.", "备注最多 500 个字符。";
    OperatorSelfDisable = "operator_self_disable", 409, "You cannot disable your own account; ask another administrator.", "不能停用自己的账户，请联系其他管理员。";
    // The server.
    ReserveInsufficient = "reserve_insufficient", 503, "The reserve cannot cover this now; the operator must fund it. Try again later.", "备付金暂时不足，请稍后再试。";
    ServiceInsufficient = "service_insufficient", 503, "The service account cannot cover this now. Try again later.", "服务账户暂时不足，请稍后再试。";
    StorageUnavailable = "storage_unavailable", 503, "The server could not reach its database; nothing was changed. Try again.", "服务器暂时无法访问数据库，未做任何更改，请重试。";
    ShuttingDown = "shutting_down", 503, "The server is restarting; nothing was changed. Try again.", "服务器正在重启，未做任何更改，请重试。";
    SecretsKeyMismatch = "secrets_key_mismatch", 500, "The server's secrets key does not belong to its database.", "服务器密钥与数据库不匹配。";
    Internal = "internal", 500, "The server failed; it has been logged.", "服务器出错，已记录。";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_named_once_serialises_as_its_name_and_parses_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!((400..600).contains(&code.http_status()), "{code}");
            assert!(!code.english().is_empty() && !code.chinese().is_empty(), "{code}");
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
