//! What every server-rendered page shares, wallet and console alike: the redirect after a
//! form, and a QR code drawn as inline SVG.

use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

/// 303 to `location` (a path of this site), setting `cookies`.
pub(crate) fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// `text` as a QR code in inline SVG, at least `pixels` wide; nothing when it cannot be
/// drawn. Safe unescaped: the `qrcode` crate writes only fixed markup, numbers and colours,
/// and `text` becomes squares, never markup.
pub(crate) fn qr_svg(text: &str, pixels: u32) -> Markup {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(qr) => {
            let svg = qr
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(pixels, pixels)
                .build();
            // The renderer starts with an XML declaration, which HTML does not want.
            PreEscaped(svg.find("<svg").map_or(svg.clone(), |start| svg[start..].to_owned()))
        }
        Err(_) => html! {},
    }
}
