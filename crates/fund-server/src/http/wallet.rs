//! The customer wallet pages, served by the fund server itself: plain HTML that works on
//! any phone browser, with no front-end framework and nothing from a CDN. The start page
//! is a maud template like the others: every value it shows is escaped.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::response::Html;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{ApiError, AppState};
use crate::model::Merchant;

/// Most partner stores listed on the start page; the full list belongs to sign-up.
const START_PAGE_STORES_MAX: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

impl Language {
    /// Chinese when the browser prefers it over English, English otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Language {
        let accept = headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
        let first = accept
            .unwrap_or("")
            .split(',')
            .map(|part| part.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .find(|tag| tag.starts_with("zh") || tag.starts_with("en"));
        match first {
            Some(tag) if tag.starts_with("zh") => Language::Chinese,
            _ => Language::English,
        }
    }

    pub(crate) fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Chinese => "zh-CN",
        }
    }
}

struct StartPageText {
    title: &'static str,
    tagline: &'static str,
    how_title: &'static str,
    steps: [&'static str; 3],
    stores_title: &'static str,
    no_stores: &'static str,
    sign_up: &'static str,
    sign_in: &'static str,
}

fn start_page_text(language: Language) -> StartPageText {
    match language {
        Language::English => StartPageText {
            title: "Tillfund wallet",
            tagline: "Top up with cash at your store, earn daily yield, pay by scanning.",
            how_title: "How it works",
            steps: [
                "Top up with cash at the counter of a partner store and get a bonus.",
                "Your balance earns yield every day.",
                "Pay by scanning the QR code the cashier shows, then enter your PIN.",
            ],
            stores_title: "Partner stores",
            no_stores: "No partner stores yet.",
            sign_up: "Create a wallet",
            sign_in: "Sign in",
        },
        Language::Chinese => StartPageText {
            title: "Tillfund 钱包",
            tagline: "在门店用现金充值，每日获得收益，扫码付款。",
            how_title: "使用方法",
            steps: [
                "在合作门店收银台用现金充值，并获得充值赠送。",
                "余额每天产生收益。",
                "扫描收银员出示的二维码，输入支付密码完成付款。",
            ],
            stores_title: "合作门店",
            no_stores: "暂无合作门店。",
            sign_up: "开通钱包",
            sign_in: "登录",
        },
    }
}

/// The start page's own stylesheet (its header is larger than the other pages').
const START_PAGE_STYLE: &str = r#"
  body { font-family: system-ui, sans-serif; margin: 0; color: #1b2a33; background: #f4f7f6; }
  header { background: #0f6e5a; color: #fff; padding: 1.5rem 1.25rem; }
  header h1 { margin: 0 0 .5rem; font-size: 1.6rem; }
  main { padding: 1rem 1.25rem; max-width: 32rem; margin: 0 auto; }
  section { background: #fff; border-radius: .75rem; padding: 1rem 1.25rem; margin-bottom: 1rem; }
  h2 { font-size: 1.1rem; margin-top: 0; }
  li { margin: .4rem 0; line-height: 1.4; }
  .empty { color: #55656e; }
  header a { color: #fff; font-weight: 600; }
  .actions { display: flex; gap: 1rem; align-items: center; }
  a.button { background: #fff; color: #0f6e5a; padding: .7rem 1.1rem; border-radius: .5rem; text-decoration: none; }
"#;

pub async fn start_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Html<String>, ApiError> {
    let language = Language::from_headers(&headers);
    let merchants = state.service().merchants(START_PAGE_STORES_MAX).await?;
    Ok(Html(start_page_markup(language, &merchants).into_string()))
}

/// What the product is, how it works, and the partner stores (their names are operators'
/// text, shown as text).
fn start_page_markup(language: Language, merchants: &[Merchant]) -> Markup {
    let text = start_page_text(language);
    html! {
        (DOCTYPE)
        html lang=(language.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (text.title) }
                // Safe unescaped: `START_PAGE_STYLE` is this file's constant, with nothing of a visitor's in it.
                style { (PreEscaped(START_PAGE_STYLE)) }
            }
            body {
                header {
                    h1 { (text.title) }
                    p { (text.tagline) }
                    p.actions {
                        a.button href="/signup" { (text.sign_up) }
                        " "
                        a href="/signin" { (text.sign_in) }
                    }
                }
                main {
                    section {
                        h2 { (text.how_title) }
                        ol { @for step in text.steps { li { (step) } } }
                    }
                    section {
                        h2 { (text.stores_title) }
                        @if merchants.is_empty() {
                            p.empty { (text.no_stores) }
                        } @else {
                            ul.stores { @for merchant in merchants { li { (merchant.name) } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(accept_language: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, accept_language.parse().unwrap());
        headers
    }

    #[test]
    fn store_names_on_the_start_page_are_text() {
        let merchant = Merchant {
            id: tillfund_core::MerchantId::generate(),
            name: "<script>alert(1)</script> \"Tea\" & Co".to_owned(),
            time_zone: "Asia/Shanghai".to_owned(),
            settlement_account: String::new(),
        };
        let page = start_page_markup(Language::English, &[merchant]).into_string();
        assert!(!page.contains("<script"), "{page}");
        assert!(
            page.contains(
                "<ul class=\"stores\"><li>&lt;script&gt;alert(1)&lt;/script&gt; &quot;Tea&quot; &amp; Co</li></ul>"
            ),
            "{page}"
        );
        let empty = start_page_markup(Language::Chinese, &[]).into_string();
        assert!(empty.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"), "{empty}");
        assert!(empty.contains("<p class=\"empty\">暂无合作门店。</p>"), "{empty}");
    }

    #[test]
    fn language_follows_the_first_preference_we_speak() {
        assert_eq!(Language::from_headers(&headers("zh-CN,zh;q=0.9,en;q=0.8")), Language::Chinese);
        assert_eq!(Language::from_headers(&headers("en-US,zh;q=0.5")), Language::English);
        assert_eq!(Language::from_headers(&headers("fr-FR,zh;q=0.5")), Language::Chinese);
        assert_eq!(Language::from_headers(&headers("fr-FR")), Language::English);
        assert_eq!(Language::from_headers(&HeaderMap::new()), Language::English);
    }
}
