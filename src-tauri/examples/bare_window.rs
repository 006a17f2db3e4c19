//! The baseline of the app-start benchmark: a Tauri window with an empty page and nothing
//! else, built from the same Tauri and WebKit. It prints when the page has loaded, as the
//! counter prints when its first screen is ready.

use std::io::{Read, Write};

/// Serves one small page on a local port: WebKit reports no page load for about:blank,
/// and data: URLs need a Tauri feature the app does not use.
fn serve_blank_page() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            let page = "<!doctype html><title>bare</title><p>bare</p>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    Ok(port)
}

fn main() {
    let started = std::time::Instant::now();
    let port = match serve_blank_page() {
        Ok(port) => port,
        Err(error) => {
            eprintln!("bare_window: {error}");
            std::process::exit(1);
        }
    };
    let mut context = tauri::generate_context!();
    // Not the counter's window from tauri.conf.json: one empty page instead.
    context.config_mut().app.windows.clear();
    let result = tauri::Builder::default()
        .setup(move |app| {
            let url =
                format!("http://127.0.0.1:{port}/").parse().map_err(|error| format!("{error}"))?;
            tauri::WebviewWindowBuilder::new(app, "bare", tauri::WebviewUrl::External(url))
                .title("bare window")
                .inner_size(1024.0, 768.0)
                .on_page_load(move |_, payload| {
                    if payload.event() == tauri::webview::PageLoadEvent::Finished {
                        eprintln!("ready after {} ms", started.elapsed().as_millis());
                    }
                })
                .build()?;
            Ok(())
        })
        .run(context);
    if let Err(error) = result {
        eprintln!("bare_window: {error}");
        std::process::exit(1);
    }
}
