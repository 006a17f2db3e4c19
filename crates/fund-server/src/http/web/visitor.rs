//! Who is asking: address, language, session and form cookies, and the redirects that set them.

use maud::Markup;

use super::*;

pub(super) const FORM_COOKIE_SECONDS: i64 = 24 * 60 * 60;

pub(super) const LANGUAGE_COOKIE_SECONDS: i64 = 365 * 24 * 60 * 60;

/// Who is asking: their language, connection, address, and session if signed in.
pub struct Visitor {
    pub(super) language: Language,
    pub(super) tls: bool,
    pub(super) ip: IpAddr,
    pub(super) form_cookie: Option<String>,
    pub(super) session: Option<Session>,
}

pub(super) struct Session {
    pub(super) token: String,
    pub(super) customer: Customer,
    pub(super) csrf: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Visitor, std::convert::Infallible> {
        let language = match cookie(&parts.headers, LANGUAGE_COOKIE).as_deref() {
            Some("zh") => Language::Chinese,
            Some("en") => Language::English,
            _ => Language::from_headers(&parts.headers),
        };
        let mut session = None;
        if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
            // An unknown or expired session is simply signed out.
            if let Ok(customer) = state.service().session_customer(&token).await {
                let csrf = session_csrf(&token);
                session = Some(Session { token, customer, csrf });
            }
        }
        Ok(Visitor {
            language,
            tls: over_tls(&parts.headers),
            ip: client_ip(&parts.extensions),
            form_cookie: cookie(&parts.headers, FORM_COOKIE)
                .filter(|value| value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())),
            session,
        })
    }
}

impl Visitor {
    pub(super) fn words(&self) -> &'static Words {
        words(self.language)
    }

    pub(super) fn page(&self, path: &str, title: &str, body: Markup) -> Page {
        let mut page = Page::new(self.language, path, title, body);
        page.signed_in_csrf = self.session.as_ref().map(|session| session.csrf.clone());
        page
    }

    /// The token for a signed-out form, and the cookie to set when there is none yet.
    pub(super) fn form_token(&self) -> (String, Option<String>) {
        match &self.form_cookie {
            Some(token) => (token.clone(), None),
            None => {
                let token = random_hex(16);
                let cookie =
                    set_cookie(FORM_COOKIE, &token, FORM_COOKIE_SECONDS, "Strict", self.tls);
                (token, Some(cookie))
            }
        }
    }

    pub(super) fn signed_out_form_is_ours(&self, submitted: &str) -> bool {
        self.form_cookie.as_deref().is_some_and(|expected| same_secret(expected, submitted))
    }

    pub(super) fn session_form_is_ours(&self, submitted: &str) -> bool {
        self.session.as_ref().is_some_and(|session| same_secret(&session.csrf, submitted))
    }
}

/// The session cookie for a fresh sign-in, living as long as the session.
pub(super) fn session_cookie(state: &AppState, visitor: &Visitor, token: &str) -> String {
    let seconds = state.service().session_ttl_ms() / 1000;
    set_cookie(SESSION_COOKIE, token, seconds, "Lax", visitor.tls)
}

pub(super) use crate::http::html::redirect;

/// Only a path on this site: never another host (`//evil`, `https://…`, `/\evil`).
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/wallet".to_owned(),
    }
}
