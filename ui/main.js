// The counter window. Talks to the Rust side only through `invoke` and events; it keeps
// no state of its own beyond what it shows.
"use strict";

const CONNECTION_CHANGED = "connection-changed";

const TEXT = {
  en: {
    appName: "Tillfund Counter",
    serverHeading: "Fund server",
    address: "Address",
    version: "Server version",
    since: "Since",
    offlineHint: "The counter keeps working offline; actions wait and sync when the server is back.",
    checking: "Checking…",
    online: "Online",
    offline: "Offline",
    degraded: "Server degraded",
    incompatible: "Update needed",
  },
  zh: {
    appName: "Tillfund 收银台",
    serverHeading: "资金服务器",
    address: "地址",
    version: "服务器版本",
    since: "起始时间",
    offlineHint: "离线时收银台照常工作；操作会在服务器恢复后自动同步。",
    checking: "正在检查…",
    online: "在线",
    offline: "离线",
    degraded: "服务器异常",
    incompatible: "需要更新",
  },
};

const language = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const text = TEXT[language];

function applyStaticText() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-text]")) {
    const value = text[element.dataset.text];
    if (value) element.textContent = value;
  }
}

function showConnection(status) {
  document.getElementById("connection").dataset.state = status.state;
  document.getElementById("connection-state").textContent = text[status.state] || status.state;
  document.getElementById("server-url").textContent = status.server_url;
  document.getElementById("server-version").textContent = status.server_version || "—";
  document.getElementById("connection-since").textContent =
    new Date(status.since_ms).toLocaleTimeString(language === "zh" ? "zh-CN" : "en-GB");
  const problem = document.getElementById("connection-problem");
  problem.hidden = !status.problem;
  problem.textContent = status.problem || "";
}

async function start() {
  applyStaticText();
  const tauri = window.__TAURI__;
  await tauri.event.listen(CONNECTION_CHANGED, (event) => showConnection(event.payload));
  showConnection(await tauri.core.invoke("connection_status"));
}

start().catch((error) => {
  const problem = document.getElementById("connection-problem");
  problem.hidden = false;
  problem.textContent = String(error);
});
