// The counter window. Talks to the Rust side only through `invoke` and events; it keeps
// no money state of its own: every figure comes from a command.
"use strict";

const CONNECTION_CHANGED = "connection-changed";
/// How often an open payment code is checked for "paid" (a local read; the Rust side
/// hears of payments by long poll).
const ORDER_POLL_MS = 300;
const TOP_UP_POLL_MS = 500;

const TEXT = {
  en: {
    appName: "Tillfund Counter", sale: "Sale", topUp: "Top-up", sync: "Sync", settings: "Settings",
    enrolTitle: "Enrol this counter",
    enrolHint: "Enter the fund server's address and the activation code from the operator.",
    serverAddress: "Server address", activationCode: "Activation code", counterName: "Counter name",
    enrol: "Enrol", amount: "Amount", showQr: "Show payment code (Enter)",
    checkCode: "Check customer's code", cancel: "Cancel (Esc)", newSale: "New sale",
    customer: "Member code or phone", preview: "Preview bonus", cashReceived: "Cash received — record",
    pending: "Waiting for the server", oldest: "Oldest waiting since", needsAttention: "Needs attention",
    serverHeading: "Fund server", address: "Address", version: "Server version", since: "Since",
    offlineHint: "The counter keeps working offline; actions wait and sync when the server is back.",
    checking: "Checking…", online: "Online", offline: "Offline", degraded: "Server degraded",
    incompatible: "Update needed",
    waiting: "Waiting for payment…", paid: "Paid", expired: "Expired — make a new code",
    cancelled: "Cancelled", codeWrong: "This code does not match the order.",
    topUpPending: "Recorded — waiting for the server", topUpConfirmed: "Confirmed by the server",
    topUpRejected: "Rejected by the server", bonus: "bonus", nothingWaiting: "Nothing",
    settlement: "Settlement", load: "Show the day", closeDay: "Close the day", csv: "CSV export",
    matches: "Matches the server", differs: "Differs from the server — check before closing",
    unreachable: "Server unreachable: figures are this counter's only", closed: "Closed",
    preferences: "Preferences", printer: "Receipt printer", save: "Save", saved: "Saved",
    language: "Language", followSystem: "Follow the system",
  },
  zh: {
    appName: "Tillfund 收银台", sale: "收款", topUp: "充值", sync: "同步", settings: "设置",
    enrolTitle: "登记本收银台", enrolHint: "请输入资金服务器地址和运营方提供的激活码。",
    serverAddress: "服务器地址", activationCode: "激活码", counterName: "收银台名称",
    enrol: "登记", amount: "金额", showQr: "显示付款码（回车）",
    checkCode: "核对顾客确认码", cancel: "取消（Esc）", newSale: "新收款",
    customer: "会员码或手机号", preview: "查看赠送", cashReceived: "已收现金 — 记录",
    pending: "等待服务器", oldest: "最早等待自", needsAttention: "需要处理",
    serverHeading: "资金服务器", address: "地址", version: "服务器版本", since: "起始时间",
    offlineHint: "离线时收银台照常工作；操作会在服务器恢复后自动同步。",
    checking: "正在检查…", online: "在线", offline: "离线", degraded: "服务器异常", incompatible: "需要更新",
    waiting: "等待付款…", paid: "已付款", expired: "已过期，请重新生成", cancelled: "已取消",
    codeWrong: "确认码与订单不符。",
    topUpPending: "已记录，等待服务器确认", topUpConfirmed: "服务器已确认", topUpRejected: "服务器已拒绝",
    bonus: "赠送", nothingWaiting: "无",
    settlement: "日结", load: "查看当日", closeDay: "日结关账", csv: "导出 CSV",
    matches: "与服务器一致", differs: "与服务器不一致，关账前请核对",
    unreachable: "无法连接服务器：仅显示本收银台数据", closed: "已关账",
    preferences: "偏好设置", printer: "小票打印机", save: "保存", saved: "已保存",
    language: "语言", followSystem: "跟随系统",
  },
};

/// The system locale unless the cashier chose a language (kept in this window's storage).
const chosenLanguage = localStorage.getItem("language") || "auto";
const systemLanguage = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const language = chosenLanguage === "auto" ? systemLanguage : chosenLanguage;
const text = TEXT[language];
const tauri = window.__TAURI__;
const $ = (id) => document.getElementById(id);

let profile = null;
let openOrderId = null;
let orderTimer = null;

function money(minorUnits) {
  const sign = minorUnits < 0 ? "-" : "";
  const units = Math.abs(minorUnits);
  return `${sign}${Math.floor(units / 100)}.${String(units % 100).padStart(2, "0")}`;
}

function showError(id, error) {
  const element = $(id);
  element.hidden = !error;
  element.textContent = error ? (error.message || String(error)) : "";
}

async function call(command, args = {}) {
  return tauri.core.invoke(command, args);
}

function applyStaticText() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-text]")) {
    const value = text[element.dataset.text];
    if (value) element.textContent = value;
  }
}

function showScreen(name) {
  if (!profile && (name === "sale" || name === "topup")) name = "enrol";
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  for (const button of document.querySelectorAll("#nav button")) {
    button.classList.toggle("active", button.dataset.screen === name);
  }
  if (name === "sync") refreshSync();
  if (name === "settlement") loadDay();
  const focus = { sale: "sale-amount", topup: "topup-customer", enrol: "enrol-server" }[name];
  if (focus) $(focus).focus();
}

function showConnection(status) {
  $("connection").dataset.state = status.state;
  $("connection-state").textContent = text[status.state] || status.state;
  $("server-url").textContent = status.server_url;
  $("server-version").textContent = status.server_version || "—";
  $("connection-since").textContent =
    new Date(status.since_ms).toLocaleTimeString(language === "zh" ? "zh-CN" : "en-GB");
  const problem = $("connection-problem");
  problem.hidden = !status.problem;
  problem.textContent = status.problem || "";
}

function showProfile(value) {
  profile = value;
  $("store-name").textContent = profile ? `· ${profile.merchant_name}` : "";
  $("nav").hidden = false;
}

// ---- enrolment ----

async function enrol(event) {
  event.preventDefault();
  showError("enrol-error", null);
  $("enrol-submit").disabled = true;
  try {
    showProfile(await call("enrol", {
      serverUrl: $("enrol-server").value,
      activationCode: $("enrol-code").value,
      label: $("enrol-label").value,
    }));
    showScreen("sale");
  } catch (error) {
    showError("enrol-error", error);
  } finally {
    $("enrol-submit").disabled = false;
  }
}

// ---- sale ----

function keypad(event) {
  const key = event.target.closest("button");
  if (!key) return;
  const input = $("sale-amount");
  input.value = key.dataset.key === "back" ? input.value.slice(0, -1) : input.value + key.textContent;
  input.focus();
}

function showOrderStatus(order) {
  const status = $("sale-status");
  status.dataset.status = order.status;
  status.textContent = { created: text.waiting, paid: text.paid, expired: text.expired, cancelled: text.cancelled }[order.status];
  if (order.status !== "created") stopOrderPolling();
}

function stopOrderPolling() {
  if (orderTimer) clearInterval(orderTimer);
  orderTimer = null;
}

async function createOrder(event) {
  event.preventDefault();
  showError("sale-error", null);
  try {
    const order = await call("create_order", { amount: $("sale-amount").value });
    openOrderId = order.order_id;
    $("sale-order").dataset.payUrl = order.pay_url;
    $("sale-form").hidden = true;
    $("sale-order").hidden = false;
    $("sale-order-amount").textContent = `${money(order.amount)} ${profile.currency}`;
    $("sale-order-number").textContent = order.receipt_number;
    $("sale-qr").src = order.qr_png;
    $("sale-code").value = "";
    showOrderStatus(order);
    stopOrderPolling();
    orderTimer = setInterval(async () => {
      try {
        showOrderStatus(await call("order", { orderId: openOrderId }));
      } catch (error) {
        stopOrderPolling();
      }
    }, ORDER_POLL_MS);
  } catch (error) {
    showError("sale-error", error);
  }
}

async function checkCode(event) {
  event.preventDefault();
  try {
    await call("confirm_by_code", { orderId: openOrderId, code: $("sale-code").value });
    showOrderStatus(await call("order", { orderId: openOrderId }));
  } catch (error) {
    $("sale-status").textContent = error.code === "confirmation_code_wrong" ? text.codeWrong : error.message;
  }
}

async function cancelOrder() {
  if (!openOrderId) return;
  try {
    await call("cancel_order", { orderId: openOrderId });
    showOrderStatus(await call("order", { orderId: openOrderId }));
  } catch (error) {
    $("sale-status").textContent = error.message;
  }
}

function newSale() {
  stopOrderPolling();
  openOrderId = null;
  $("sale-order").hidden = true;
  $("sale-form").hidden = false;
  $("sale-amount").value = "";
  $("sale-amount").focus();
}

// ---- top-up ----

async function previewTopUp(event) {
  event.preventDefault();
  showError("topup-error", null);
  $("topup-result").textContent = "";
  try {
    const preview = await call("preview_top_up", { customer: $("topup-customer").value, amount: $("topup-amount").value });
    $("topup-summary").textContent =
      `${preview.customer_name}: ${money(preview.amount)} + ${money(preview.bonus)} ${text.bonus}`;
    $("topup-confirm").hidden = false;
    $("topup-record").focus();
  } catch (error) {
    $("topup-confirm").hidden = true;
    showError("topup-error", error);
  }
}

async function recordTopUp() {
  try {
    const recorded = await call("record_top_up", { customer: $("topup-customer").value, amount: $("topup-amount").value });
    $("topup-confirm").hidden = true;
    const result = $("topup-result");
    result.dataset.status = "pending";
    result.textContent = `${recorded.receipt_number}: ${text.topUpPending}`;
    const timer = setInterval(async () => {
      const status = await call("top_up_status", { entryId: recorded.entry_id }).catch(() => null);
      if (!status || status.status === "pending") return;
      clearInterval(timer);
      result.dataset.status = status.status;
      result.textContent = status.status === "confirmed"
        ? `${recorded.receipt_number}: ${text.topUpConfirmed}`
        : `${recorded.receipt_number}: ${text.topUpRejected} — ${status.message}`;
    }, TOP_UP_POLL_MS);
    $("topup-customer").value = "";
    $("topup-amount").value = "";
    $("topup-customer").focus();
  } catch (error) {
    showError("topup-error", error);
  }
}

// ---- sync ----

async function refreshSync() {
  try {
    const status = await call("sync_status");
    $("sync-pending").textContent = String(status.pending);
    $("sync-oldest").textContent = status.oldest_pending_ms
      ? new Date(status.oldest_pending_ms).toLocaleString(language === "zh" ? "zh-CN" : "en-GB")
      : text.nothingWaiting;
    const list = $("sync-attention");
    list.replaceChildren(...status.needs_attention.map((item) => {
      const entry = document.createElement("li");
      entry.textContent = `#${item.sequence} ${item.message}`;
      return entry;
    }));
  } catch (error) {
    $("sync-pending").textContent = error.message;
  }
}

// ---- settlement ----

function showDayReport(view) {
  const report = view.report;
  const match = $("settlement-match");
  match.dataset.status = report.matches === true ? "confirmed" : report.matches === false ? "rejected" : "pending";
  const state = report.matches === true ? text.matches : report.matches === false ? text.differs : text.unreachable;
  match.textContent = report.closed ? `${text.closed} · ${state}` : state;
  $("settlement-z-report").textContent = view.z_report;
  $("settlement-csv").value = view.csv;
}

async function loadDay(event) {
  if (event) event.preventDefault();
  showError("settlement-error", null);
  try {
    showDayReport(await call("day_report", { day: $("settlement-day").value }));
  } catch (error) {
    showError("settlement-error", error);
  }
}

async function closeDay() {
  showError("settlement-error", null);
  try {
    showDayReport(await call("close_day", { day: $("settlement-day").value }));
  } catch (error) {
    showError("settlement-error", error);
  }
}

function todayText() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

// ---- settings ----

async function savePrinter(event) {
  event.preventDefault();
  const result = $("printer-result");
  try {
    $("printer-setting").value = await call("set_printer", { setting: $("printer-setting").value });
    result.dataset.status = "confirmed";
    result.textContent = text.saved;
  } catch (error) {
    result.dataset.status = "rejected";
    result.textContent = error.message;
  }
}

function chooseLanguage(event) {
  localStorage.setItem("language", event.target.value);
  window.location.reload();
}

// ---- keyboard ----

function shortcuts(event) {
  const screens = { F1: "sale", F2: "topup", F3: "sync", F4: "settlement", F5: "settings" };
  if (screens[event.key]) {
    event.preventDefault();
    showScreen(screens[event.key]);
  } else if (event.key === "Escape" && openOrderId) {
    cancelOrder();
  }
}

async function start() {
  applyStaticText();
  $("nav").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button) showScreen(button.dataset.screen);
  });
  $("enrol-form").addEventListener("submit", enrol);
  $("sale-keypad").addEventListener("click", keypad);
  $("sale-form").addEventListener("submit", createOrder);
  $("sale-code-form").addEventListener("submit", checkCode);
  $("sale-cancel").addEventListener("click", cancelOrder);
  $("sale-new").addEventListener("click", newSale);
  $("topup-form").addEventListener("submit", previewTopUp);
  $("topup-record").addEventListener("click", recordTopUp);
  $("settlement-day").value = todayText();
  $("settlement-form").addEventListener("submit", loadDay);
  $("settlement-close").addEventListener("click", closeDay);
  $("printer-form").addEventListener("submit", savePrinter);
  $("language-select").value = chosenLanguage;
  $("language-select").addEventListener("change", chooseLanguage);
  document.addEventListener("keydown", shortcuts);
  setInterval(() => { if (!$("screen-sync").hidden) refreshSync(); }, 1000);

  await tauri.event.listen(CONNECTION_CHANGED, (event) => showConnection(event.payload));
  const status = await call("connection_status");
  showConnection(status);
  $("enrol-server").value = status.server_url;
  showProfile(await call("counter_profile"));
  $("printer-setting").value = (await call("printer")) || "";
  showScreen(profile ? "sale" : "enrol");
}

start().catch((error) => {
  const problem = $("connection-problem");
  problem.hidden = false;
  problem.textContent = String(error.message || error);
});
