//! Refusals as people read them: in their language, on the page they were on.

use super::*;

pub(super) fn status_of(error: &ServiceError) -> StatusCode {
    crate::http::status_for(error.kind)
}

/// The errors a customer meets, in Chinese. English pages use the service's messages,
/// which are written for customers already; a code not listed here shows that message.
pub(super) fn chinese_problem(code: &str) -> Option<&'static str> {
    Some(match code {
        "sign_in_failed" => "手机号或支付密码错误。",
        "pin_wrong" => "支付密码错误。连续输错 5 次，钱包将锁定 15 分钟。",
        "wallet_locked" => "支付密码错误次数过多，钱包已暂时锁定，请稍后再试。",
        "phone_taken" => "该手机号已开通钱包，请直接登录。",
        "phone_invalid" => "请输入正确的手机号。",
        "pin_invalid" => "支付密码必须是 6 位数字。",
        "display_name_invalid" => "请输入姓名（1 到 40 个字）。",
        "token_expired" => "付款码已过期，请让收银员重新生成。",
        "token_malformed" | "token_bad_signature" => "这不是有效的付款码。",
        "order_already_paid" => "该订单已付款。",
        "customer_not_bound" => "您的钱包尚未绑定该门店：请先在钱包中添加该门店。",
        "insufficient_funds" => "余额不足。",
        "merchant_unknown" => "没有这家门店。",
        _ => return None,
    })
}

/// A form field the core refused: its message, or the Chinese one for its code.
pub(super) fn input_problem(code: &str, message: String, language: Language) -> String {
    match (language, chinese_problem(code)) {
        (Language::Chinese, Some(text)) => text.to_owned(),
        _ => message,
    }
}

/// What a failed action says on the page: the service's message (written for people),
/// except for internal errors, which are logged and not shown.
pub(super) fn localized_problem(error: &ServiceError, language: Language) -> String {
    match (language, chinese_problem(&error.code)) {
        (Language::Chinese, Some(text)) if error.kind != ErrorKind::Internal => text.to_owned(),
        _ => problem_text(error),
    }
}

pub(super) fn problem_text(error: &ServiceError) -> String {
    if error.kind == ErrorKind::Internal {
        tracing::error!(code = %error.code, message = %error.message, "wallet page");
        return "The server could not complete this; it has been logged. Please try again."
            .to_owned();
    }
    error.message.clone()
}

pub(super) fn problem(message: &str) -> String {
    format!(r#"<p class="problem" role="alert" data-code="problem">{}</p>"#, escape_html(message))
}

pub(super) fn hidden(name: &str, value: &str) -> String {
    format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape_html(value))
}

pub(super) fn forbidden(visitor: &Visitor) -> Response {
    let text = visitor.words();
    let body = format!(
        r#"<section>{}<p><a href="/wallet">{}</a></p></section>"#,
        problem(text.form_expired),
        text.back_to_wallet
    );
    visitor.page("/wallet", text.title, body).with_status(StatusCode::FORBIDDEN).into_response()
}

pub(super) fn error_page(visitor: &Visitor, error: &ServiceError) -> Response {
    let text = visitor.words();
    let body = format!(
        r#"<section>{}<p><a href="/wallet">{}</a></p></section>"#,
        problem(&localized_problem(error, visitor.language)),
        text.back_to_wallet
    );
    visitor.page("/wallet", text.title, body).with_status(status_of(error)).into_response()
}
