//! The wallet pages' frame and words: one stylesheet inline (no CDN, no framework), mobile
//! first, labelled forms, a language switch. The pages are maud templates: `html!` escapes
//! every value it is given, so a customer's or an operator's text never becomes markup.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::http::wallet::Language;

/// Pages carry no scripts at all; forms post only here; nobody may frame them (the pay
/// page asks for a PIN); the pay URL's token never leaks through a Referer.
pub(crate) const CONTENT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What every page but the Listen page allows of the phone's devices: nothing.
pub(crate) const NO_DEVICES_POLICY: &str = "microphone=(), camera=(), geolocation=()";

const STYLE: &str = r#"
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; margin: 0; color: #1b2a33; background: #f4f7f6; font-size: 17px; }
header { background: #0f6e5a; color: #fff; padding: .8rem 1.1rem; display: flex; justify-content: space-between; align-items: center; gap: .5rem; }
header a { color: #fff; }
header nav { display: flex; gap: .9rem; align-items: center; }
header .brand { font-weight: 700; font-size: 1.15rem; color: #fff; text-decoration: none; }
main { padding: 1rem 1.1rem 2rem; max-width: 30rem; margin: 0 auto; }
section { background: #fff; border-radius: .75rem; padding: 1rem 1.1rem; margin-bottom: 1rem; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
label { display: grid; gap: .3rem; margin-bottom: .9rem; color: #3d4f59; }
input, select { font-size: 1.15rem; padding: .65rem .75rem; border: 1px solid #9fb1ac; border-radius: .5rem; }
input:focus-visible, select:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid #f2b705; outline-offset: 2px; }
button { font-size: 1.1rem; min-height: 3rem; padding: 0 1.2rem; border-radius: .5rem; border: 1px solid #0f6e5a; background: #fff; color: #0f6e5a; cursor: pointer; }
button.primary { background: #0f6e5a; color: #fff; width: 100%; }
button:disabled { opacity: .55; cursor: default; }
button.link { border: none; background: none; color: #fff; min-height: 0; padding: 0; text-decoration: underline; font-size: 1rem; }
.problem { color: #a4201a; font-weight: 600; background: #fdecea; padding: .6rem .8rem; border-radius: .5rem; }
.done { color: #17663c; font-weight: 700; background: #e6f4ec; padding: .6rem .8rem; border-radius: .5rem; }
.hint { color: #4a5b64; font-size: .92rem; }
.big { font-size: 2rem; font-weight: 800; margin: .2rem 0; font-variant-numeric: tabular-nums; }
.code { font-size: 2.4rem; font-weight: 800; letter-spacing: .2em; text-align: center; }
.split { display: grid; grid-template-columns: repeat(3, 1fr); gap: .5rem; text-align: center; }
.split div { background: #f4f7f6; border-radius: .5rem; padding: .5rem .2rem; }
.split strong { display: block; font-size: 1.05rem; font-variant-numeric: tabular-nums; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain li { display: flex; justify-content: space-between; align-items: center; gap: .5rem; padding: .45rem 0; border-bottom: 1px solid #e3e9e7; }
fieldset { border: none; padding: 0; margin: 0 0 .9rem; }
legend { color: #3d4f59; margin-bottom: .4rem; }
.check { display: flex; gap: .6rem; align-items: center; margin: .3rem 0; }
.check input { width: 1.4rem; height: 1.4rem; }
.qr svg { width: 100%; max-width: 16rem; height: auto; display: block; margin: 0 auto; }
.member { text-align: center; font-size: 1.4rem; letter-spacing: .12em; font-variant-numeric: tabular-nums; }
table { width: 100%; border-collapse: collapse; font-size: .95rem; }
td, th { padding: .4rem .2rem; border-bottom: 1px solid #e3e9e7; text-align: left; }
td.amount, th.amount { text-align: right; font-variant-numeric: tabular-nums; }
.chart svg { width: 100%; height: auto; }
.chart rect { fill: #0f6e5a; }
.chart text { font-size: 9px; fill: #4a5b64; }
a { color: #0f6e5a; }
"#;

/// The words of the pages, in English and Chinese.
pub struct Words {
    pub title: &'static str,
    pub sign_in: &'static str,
    pub sign_up: &'static str,
    pub sign_out: &'static str,
    pub phone: &'static str,
    pub pin: &'static str,
    pub pin_again: &'static str,
    pub pin_hint: &'static str,
    pub name: &'static str,
    pub stores: &'static str,
    pub stores_hint: &'static str,
    pub no_account: &'static str,
    pub have_account: &'static str,
    pub balance: &'static str,
    pub principal: &'static str,
    pub bonus: &'static str,
    pub yield_earned: &'static str,
    pub member_code: &'static str,
    pub member_code_hint: &'static str,
    pub your_stores: &'static str,
    pub no_bound_stores: &'static str,
    pub add_store: &'static str,
    pub remove: &'static str,
    pub add: &'static str,
    pub pay_title: &'static str,
    pub pay: &'static str,
    pub pay_until: &'static str,
    pub paid_title: &'static str,
    pub show_code: &'static str,
    pub new_balance: &'static str,
    pub back_to_wallet: &'static str,
    pub expired: &'static str,
    pub already_paid: &'static str,
    pub paid_by_you: &'static str,
    pub sign_in_to_pay: &'static str,
    pub form_expired: &'static str,
    pub too_many: &'static str,
    pub pins_differ: &'static str,
    pub other_language: &'static str,
    pub yield_history: &'static str,
    pub annualized_7d: &'static str,
    pub per_ten_thousand: &'static str,
    pub yield_how: &'static str,
    /// With `{zone}`, `{days}`, `{posting}`, `{minimum}` and `{currency}` to fill in.
    pub yield_rule: &'static str,
    pub posting_daily: &'static str,
    pub posting_monthly: &'static str,
    pub no_yield_yet: &'static str,
    pub transactions: &'static str,
    pub no_transactions: &'static str,
    pub entry_top_up: &'static str,
    pub entry_payment: &'static str,
    pub entry_refund: &'static str,
    pub entry_yield: &'static str,
    pub entry_reversal: &'static str,
    pub entry_redemption: &'static str,
    pub entry_bonus_forfeiture: &'static str,
    pub cash_out_title: &'static str,
    pub cash_out_link: &'static str,
    pub pay_by_sound_link: &'static str,
    pub counter: &'static str,
    pub cash_out_payable: &'static str,
    pub cash_out_intro: &'static str,
    pub cash_out_store: &'static str,
    pub cash_out_amount: &'static str,
    pub cash_out_get_code: &'static str,
    pub cash_out_show_code: &'static str,
    pub cash_out_until: &'static str,
    pub close_wallet_title: &'static str,
    pub close_wallet_intro: &'static str,
    pub close_wallet_understood: &'static str,
    pub close_wallet_button: &'static str,
    pub close_wallet_on_payout: &'static str,
    pub close_wallet_done: &'static str,
}

pub const ENGLISH: Words = Words {
    title: "Tillfund wallet",
    sign_in: "Sign in",
    sign_up: "Create a wallet",
    sign_out: "Sign out",
    phone: "Mobile number",
    pin: "Payment PIN (6 digits)",
    pin_again: "PIN again",
    pin_hint: "You enter this PIN for every payment. Five wrong PINs lock the wallet for 15 minutes.",
    name: "Your name",
    stores: "Stores where you top up and pay",
    stores_hint: "Cashiers of these stores can top up your wallet; you can change them later.",
    no_account: "No wallet yet? Create one",
    have_account: "Already have a wallet? Sign in",
    balance: "Balance",
    principal: "Top-ups",
    bonus: "Bonus",
    yield_earned: "Yield",
    member_code: "Your member code",
    member_code_hint: "Show this to the cashier to top up with cash.",
    your_stores: "Your stores",
    no_bound_stores: "No store yet: add one to top up and pay there.",
    add_store: "Add a store",
    remove: "Remove",
    add: "Add",
    pay_title: "Pay",
    pay: "Pay",
    pay_until: "Pay before",
    paid_title: "Paid",
    show_code: "Show this code to the cashier",
    new_balance: "New balance",
    back_to_wallet: "Back to the wallet",
    expired: "This payment code has expired: ask the cashier for a new one.",
    already_paid: "This order has already been paid.",
    paid_by_you: "You paid this order.",
    sign_in_to_pay: "Sign in to pay.",
    form_expired: "This form has expired. Nothing was changed; please try again.",
    too_many: "Too many attempts. Nothing was changed; wait a minute and try again.",
    pins_differ: "The two PINs differ.",
    other_language: "中文",
    yield_history: "Yield, last 30 days",
    annualized_7d: "7-day annualized yield",
    per_ten_thousand: "Yield per 10,000 (last day)",
    yield_how: "How yield is counted",
    yield_rule: "Each day (midnight to midnight, {zone}) the whole balance at the day's end — principal, bonus and yield already paid in — earns the annual rate ÷ {days}. Yield is paid into the wallet {posting} in whole fen; a fraction of a fen is carried to the next payment, never dropped. Yield paid in earns yield from the next day on: it compounds. A day whose balance is under {minimum} {currency} earns nothing. The 7-day annualized rate is the last 7 days' yield over their balances, × {days}; the yield per 10,000 is what 10,000 {currency} earned on the last day.",
    posting_daily: "every day",
    posting_monthly: "after each month's last day",
    no_yield_yet: "No yield yet: it accrues daily on your balance.",
    transactions: "Transactions",
    no_transactions: "No transactions yet.",
    entry_top_up: "Cash top-up",
    entry_payment: "Payment",
    entry_refund: "Refund",
    entry_yield: "Yield",
    entry_reversal: "Top-up reversed",
    entry_redemption: "Paid out in cash",
    entry_bonus_forfeiture: "Bonus forfeited at closing",
    cash_out_title: "Cash out at a store",
    cash_out_link: "Take money back as cash",
    pay_by_sound_link: "Pay by sound (listen to the counter)",
    counter: "Counter",
    cash_out_payable: "Can be paid out",
    cash_out_intro: "Principal and yield are paid out in cash by the manager of a store your wallet is bound to; bonus is never cash and goes back in proportion. You get a code for the store and amount, valid 10 minutes.",
    cash_out_store: "Store",
    cash_out_amount: "Amount",
    cash_out_get_code: "Get the code",
    cash_out_show_code: "Show this code to the store's manager:",
    cash_out_until: "Valid until",
    close_wallet_title: "Close my wallet",
    close_wallet_intro: "Everything that can be paid out (principal and yield) is paid out in cash at the store you choose; bonus is forfeited. Then the wallet is closed: removed from every store, signed out, and it cannot be used or signed in to again.",
    close_wallet_understood: "I understand: the wallet closes for good",
    close_wallet_button: "Close my wallet",
    close_wallet_on_payout: "When the manager pays this out, your wallet closes for good.",
    close_wallet_done: "Your wallet is closed.",
};

pub const CHINESE: Words = Words {
    title: "Tillfund 钱包",
    sign_in: "登录",
    sign_up: "开通钱包",
    sign_out: "退出",
    phone: "手机号",
    pin: "支付密码（6 位数字）",
    pin_again: "再次输入密码",
    pin_hint: "每次付款都需输入支付密码。连续输错 5 次，钱包将锁定 15 分钟。",
    name: "您的姓名",
    stores: "充值和付款的门店",
    stores_hint: "这些门店的收银员可以为您的钱包充值；之后可以修改。",
    no_account: "还没有钱包？立即开通",
    have_account: "已有钱包？登录",
    balance: "余额",
    principal: "充值",
    bonus: "赠送",
    yield_earned: "收益",
    member_code: "您的会员码",
    member_code_hint: "现金充值时向收银员出示。",
    your_stores: "我的门店",
    no_bound_stores: "还没有门店：添加门店后即可在该店充值和付款。",
    add_store: "添加门店",
    remove: "移除",
    add: "添加",
    pay_title: "付款",
    pay: "确认付款",
    pay_until: "请在此时间前付款",
    paid_title: "付款成功",
    show_code: "请向收银员出示此确认码",
    new_balance: "当前余额",
    back_to_wallet: "返回钱包",
    expired: "付款码已过期，请让收银员重新生成。",
    already_paid: "该订单已付款。",
    paid_by_you: "您已支付该订单。",
    sign_in_to_pay: "请登录后付款。",
    form_expired: "表单已过期，未做任何更改，请重试。",
    too_many: "尝试次数过多，未做任何更改，请稍后再试。",
    pins_differ: "两次输入的密码不一致。",
    other_language: "English",
    yield_history: "近 30 天收益",
    annualized_7d: "七日年化收益率",
    per_ten_thousand: "万份收益（最近一日）",
    yield_how: "收益计算规则",
    yield_rule: "每日（{zone} 时间零点至零点）按日终全部余额（本金、赠送金及已发放收益）计息，日利率为年利率 ÷ {days}。收益{posting}以整分发放入钱包；不足一分的部分结转至下次发放，不会舍弃。已发放的收益自次日起计息（复利）。日终余额低于 {minimum} {currency} 的当日不计息。七日年化收益率＝最近七日收益 ÷ 各日余额之和 × {days}；万份收益为最近一日每 10,000 {currency} 的收益。",
    posting_daily: "每日",
    posting_monthly: "于每月最后一日之后",
    no_yield_yet: "暂无收益：收益按日根据余额计算。",
    transactions: "交易记录",
    no_transactions: "暂无交易记录。",
    entry_top_up: "现金充值",
    entry_payment: "付款",
    entry_refund: "退款",
    entry_yield: "收益",
    entry_reversal: "充值撤销",
    entry_redemption: "兑现为现金",
    entry_bonus_forfeiture: "销户时赠送金额作废",
    cash_out_title: "到店兑现",
    cash_out_link: "兑现为现金",
    pay_by_sound_link: "声波支付（收听收银台）",
    counter: "收银台",
    cash_out_payable: "可兑现金额",
    cash_out_intro: "本金与收益由钱包绑定门店的店长以现金兑付；赠送金额不可兑现，将按比例扣回。您将获得该门店及金额的兑现码，10 分钟内有效。",
    cash_out_store: "门店",
    cash_out_amount: "金额",
    cash_out_get_code: "获取兑现码",
    cash_out_show_code: "请向店长出示此兑现码：",
    cash_out_until: "有效期至",
    close_wallet_title: "注销钱包",
    close_wallet_intro: "可兑现的全部金额（本金与收益）将在您选择的门店以现金兑付，赠送金额作废。之后钱包注销：解除所有门店绑定、退出登录，且不能再使用或登录。",
    close_wallet_understood: "我已知晓：钱包将永久注销",
    close_wallet_button: "注销钱包",
    close_wallet_on_payout: "店长兑付此码后，您的钱包将永久注销。",
    close_wallet_done: "您的钱包已注销。",
};

pub fn words(language: Language) -> &'static Words {
    match language {
        Language::English => &ENGLISH,
        Language::Chinese => &CHINESE,
    }
}

/// A whole page: status, cookies to set, the frame around `body`.
pub struct Page {
    pub status: StatusCode,
    pub language: Language,
    pub title: String,
    pub body: Markup,
    pub cookies: Vec<String>,
    /// Where the language switch returns to.
    pub path: String,
    /// Whether a sign-out form is shown (with this CSRF token).
    pub signed_in_csrf: Option<String>,
    /// The Listen page: script and microphone allowed (`listening`).
    listens: bool,
}

impl Page {
    pub fn new(language: Language, path: &str, title: &str, body: Markup) -> Page {
        Page {
            status: StatusCode::OK,
            language,
            title: title.to_owned(),
            body,
            cookies: Vec::new(),
            path: path.to_owned(),
            signed_in_csrf: None,
            listens: false,
        }
    }

    /// The Listen page: its script and the microphone are allowed (`listen.rs`).
    pub fn listening(mut self) -> Page {
        self.listens = true;
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    /// The frame: the header with the language switch (and sign-out when signed in)
    /// around the body.
    fn markup(&self) -> Markup {
        let text = words(self.language);
        let other = match self.language {
            Language::English => "zh",
            Language::Chinese => "en",
        };
        html! {
            (DOCTYPE)
            html lang=(self.language.tag()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · " (text.title) }
                    // Safe unescaped: `STYLE` is this file's constant, with nothing of a visitor's in it.
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    header {
                        a class="brand" href="/wallet" { (text.title) }
                        nav {
                            a href={ "/language?to=" (other) "&back=" (url_encode(&self.path)) } lang=(other) { (text.other_language) }
                            " "
                            @if let Some(csrf) = &self.signed_in_csrf {
                                form method="post" action="/signout" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button class="link" type="submit" { (text.sign_out) }
                                }
                            }
                        }
                    }
                    main { (self.body) }
                }
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = self.markup().into_string();
        let mut response = (self.status, html).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        let (policy, permissions) = if self.listens {
            (super::listen::LISTEN_POLICY, "microphone=(self), camera=(), geolocation=()")
        } else {
            (CONTENT_POLICY, NO_DEVICES_POLICY)
        };
        headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
        headers.insert(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(permissions),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        );
        headers
            .insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
        headers.insert(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        );
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                headers.append(SET_COOKIE, value);
            }
        }
        response
    }
}

/// Percent-encodes text for a query value.
pub fn url_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(char::from(byte));
            }
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

/// An amount for people: "38.50 CNY".
pub fn money(amount: tillfund_core::Amount, currency: tillfund_core::Currency) -> String {
    format!("{} {}", amount.format(currency), currency.code())
}
