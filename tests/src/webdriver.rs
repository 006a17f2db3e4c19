//! The few WebDriver calls the tests need, over plain HTTP (W3C WebDriver protocol), so the
//! tests carry no browser-automation dependency.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::{Value, json};

/// The W3C key under which an element reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct WebDriverSession {
    http: reqwest::Client,
    session_url: String,
}

impl WebDriverSession {
    /// Opens a session on tauri-driver for the app binary at `application`.
    pub async fn start_tauri(driver_url: &str, application: &str) -> anyhow::Result<Self> {
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "wry",
                    "tauri:options": { "application": application }
                }
            }
        });
        WebDriverSession::start(driver_url, &capabilities).await
    }

    /// Opens a session on chromedriver: headless Chromium the size of a phone's screen.
    pub async fn start_chromium(driver_url: &str) -> anyhow::Result<Self> {
        WebDriverSession::start_chromium_with(driver_url, &[]).await
    }

    /// As `start_chromium`, with a fake microphone (pay by sound): with `Some(wav)` the
    /// microphone is allowed and hears that file, over and over as a counter repeats its
    /// burst; with `None` the visitor refuses it.
    pub async fn start_chromium_hearing(
        driver_url: &str,
        wav: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let mut arguments = vec!["--use-fake-device-for-media-stream".to_owned()];
        if let Some(wav) = wav {
            arguments.push("--use-fake-ui-for-media-stream".to_owned());
            arguments.push(format!("--use-file-for-fake-audio-capture={}", wav.display()));
        }
        WebDriverSession::start_chromium_with(driver_url, &arguments).await
    }

    async fn start_chromium_with(driver_url: &str, extra: &[String]) -> anyhow::Result<Self> {
        let mut arguments: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=412,915",
            "--lang=en-US",
        ]
        .map(str::to_owned)
        .to_vec();
        arguments.extend_from_slice(extra);
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": arguments }
                }
            }
        });
        WebDriverSession::start(driver_url, &capabilities).await
    }

    async fn start(driver_url: &str, capabilities: &Value) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let response: Value = http
            .post(format!("{driver_url}/session"))
            .json(capabilities)
            .send()
            .await
            .context("POST /session to the WebDriver server")?
            .json()
            .await?;
        let session_id = response["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session id in {response}"))?;
        Ok(WebDriverSession { http, session_url: format!("{driver_url}/session/{session_id}") })
    }

    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let request = self.http.request(method, format!("{}{path}", self.session_url));
        let request = if body.is_null() { request } else { request.json(&body) };
        let response: Value = request.send().await?.json().await?;
        if let Some(error) = response["value"]["error"].as_str() {
            bail!("webdriver {path}: {error}: {}", response["value"]["message"]);
        }
        Ok(response["value"].clone())
    }

    async fn element(&self, css: &str) -> anyhow::Result<String> {
        let element = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await?;
        Ok(element[ELEMENT_KEY]
            .as_str()
            .with_context(|| format!("no element reference for {css} in {element}"))?
            .to_owned())
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.element(css).await?;
        self.command(reqwest::Method::POST, &format!("/element/{element}/click"), json!({}))
            .await?;
        Ok(())
    }

    /// Clears the field and types `text` (`\u{E007}` is Enter).
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.element(css).await?;
        self.command(reqwest::Method::POST, &format!("/element/{element}/clear"), json!({}))
            .await?;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await?;
        Ok(())
    }

    /// Sizes the window (a laptop's, for the console's screenshots).
    pub async fn set_window_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await?;
        Ok(())
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.command(reqwest::Method::POST, "/url", json!({"url": url})).await?;
        Ok(())
    }

    /// Types `text` key by key with `gap` between keys, as a person does (a scanner types
    /// the same keys within milliseconds).
    pub async fn type_slowly(&self, css: &str, text: &str, gap: Duration) -> anyhow::Result<()> {
        let element = self.element(css).await?;
        self.command(reqwest::Method::POST, &format!("/element/{element}/clear"), json!({}))
            .await?;
        for key in text.chars() {
            self.command(
                reqwest::Method::POST,
                &format!("/element/{element}/value"),
                json!({"text": key.to_string()}),
            )
            .await?;
            tokio::time::sleep(gap).await;
        }
        Ok(())
    }

    /// Runs `script` in the page as a function body and returns what it returns.
    pub async fn execute(&self, script: &str, arguments: Value) -> anyhow::Result<Value> {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": arguments}),
        )
        .await
    }

    pub async fn is_displayed(&self, css: &str) -> anyhow::Result<bool> {
        let element = self.element(css).await?;
        let shown = self
            .command(reqwest::Method::GET, &format!("/element/{element}/displayed"), Value::Null)
            .await?;
        Ok(shown.as_bool().unwrap_or(false))
    }

    pub async fn window_handles(&self) -> anyhow::Result<Vec<String>> {
        let handles = self.command(reqwest::Method::GET, "/window/handles", Value::Null).await?;
        Ok(handles
            .as_array()
            .map(|handles| handles.iter().filter_map(|h| h.as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    pub async fn window_handle(&self) -> anyhow::Result<String> {
        let handle = self.command(reqwest::Method::GET, "/window", Value::Null).await?;
        Ok(handle.as_str().unwrap_or_default().to_owned())
    }

    pub async fn switch_to_window(&self, handle: &str) -> anyhow::Result<()> {
        self.command(reqwest::Method::POST, "/window", json!({"handle": handle})).await?;
        Ok(())
    }

    pub async fn attribute(&self, css: &str, name: &str) -> anyhow::Result<Option<String>> {
        let element = self.element(css).await?;
        let value = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{element}/attribute/{name}"),
                Value::Null,
            )
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// The visible text of the first element matching `css`, or an error if none does.
    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        let element = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await?;
        let element_id = element[ELEMENT_KEY]
            .as_str()
            .with_context(|| format!("no element reference for {css} in {element}"))?
            .to_owned();
        let text = self
            .command(reqwest::Method::GET, &format!("/element/{element_id}/text"), Value::Null)
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Polls until the text of `css` satisfies `wanted`, returning the text and how long it
    /// took; fails after `timeout` with the last text seen.
    pub async fn wait_for_text(
        &self,
        css: &str,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> anyhow::Result<(String, Duration)> {
        let started = Instant::now();
        let mut last_seen = String::from("<nothing yet>");
        while started.elapsed() < timeout {
            match self.text_of(css).await {
                Ok(text) if wanted(&text) => return Ok((text, started.elapsed())),
                Ok(text) => last_seen = text,
                Err(error) => last_seen = format!("error: {error}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{css} did not reach the wanted text within {timeout:?}; last seen: {last_seen}")
    }

    /// Runs `script` in the page as an async function body; it calls the last argument
    /// with its result. Returns what it was called with.
    pub async fn execute_async(&self, script: &str, arguments: Value) -> anyhow::Result<Value> {
        self.command(
            reqwest::Method::POST,
            "/execute/async",
            json!({"script": script, "args": arguments}),
        )
        .await
    }

    /// Calls a Tauri command of the app and returns `{ok: value}` or `{error: {code, message}}`.
    pub async fn invoke(&self, command: &str, arguments: Value) -> anyhow::Result<Value> {
        let script = "const done = arguments[arguments.length - 1];\
            window.__TAURI__.core.invoke(arguments[0], arguments[1])\
              .then((value) => done({ ok: value === undefined ? null : value }))\
              .catch((error) => done({ error }));";
        self.execute_async(script, json!([command, arguments])).await
    }

    pub async fn screenshot_png(&self) -> anyhow::Result<Vec<u8>> {
        let value = self.command(reqwest::Method::GET, "/screenshot", Value::Null).await?;
        let encoded = value.as_str().context("screenshot is not a string")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded)?)
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.http.delete(&self.session_url).send().await?;
        Ok(())
    }
}
