// The counter window. Talks to the Rust side only through `invoke` and events; it keeps
// no money state of its own: every figure comes from a command. The shapes it receives
// are declared in types.d.ts, generated from the Rust types.
"use strict";

/** @typedef {import("./types").OrderView} OrderView */
/** @typedef {import("./types").OrderSummary} OrderSummary */
/** @typedef {import("./types").StaffState} StaffState */
/** @typedef {import("./types").StaffSession} StaffSession */
/** @typedef {import("./types").DayReportView} DayReportView */
/** @typedef {import("./types").ConnectionStatus} ConnectionStatus */
/** @typedef {import("./types").CustomerDisplay} CustomerDisplay */
/** @typedef {import("./types").OrderPaid} OrderPaid */

const CONNECTION_CHANGED = "connection-changed";
/// The Rust side announces each order it finds paid (it hears of payments by long poll);
/// the open order is read again then, and once more when its code expires.
const ORDER_PAID = "order-paid";
/// After an open code's expiry, so that the order reads as expired.
const ORDER_EXPIRY_MARGIN_MS = 500;
const TOP_UP_POLL_MS = 500;
/// The pending badge and the Sync screen refresh this often (local reads).
const SYNC_POLL_MS = 1000;
/// The Rust side ends a quiet shift; the window notices within this.
const SHIFT_POLL_MS = 5000;
const SALES_SHOWN = 20;

const TEXT = {
  en: {
    appName: "Tillfund Counter", sale: "Sale", topUp: "Top-up", customers: "Customers", sync: "Sync",
    settings: "Settings", settlement: "Settlement",
    enrolTitle: "Enrol this counter",
    enrolHint: "Enter the fund server's address and the activation code from the operator.",
    serverAddress: "Server address", activationCode: "Activation code", counterName: "Counter name",
    enrol: "Enrol", amount: "Amount", showQr: "Show payment code (Enter)",
    checkCode: "Check customer's code", cancel: "Cancel (Esc)", newSale: "New sale (Enter)", print: "Print",
    printShortcut: "Print (Ctrl+P)",
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
    load: "Show the day", closeDay: "Close the day", exportCsv: "Export CSV",
    matches: "Matches the server", differs: "Differs from the server — check before closing",
    unreachable: "Server unreachable: figures are this counter's only", closed: "Closed",
    preferences: "Preferences", printer: "Receipt printer", save: "Save", saved: "Saved",
    language: "Language", followSystem: "Follow the system",
    signOut: "Sign out", signIn: "Sign in (Enter)", signInTitle: "Sign in",
    signInHint: "Choose your name, then enter your PIN.",
    byCashier: "By cashier", noCashiers: "Nothing taken yet.", shiftHours: "Shift",
    refundsGiven: "Refunds", cashGivenBack: "Given back", nobodySignedIn: "(nobody signed in)",
    cashPaidOut: "Paid out",
    staffStoreHint: "One staff list for the whole store: who is added, disabled or given a new PIN here can sign in the same way at every counter of the store. Changes need the server; signing in works offline.",
    firstManagerTitle: "Who manages this counter?",
    firstManagerHint: "The first member of staff is a manager, who then adds the cashiers in Settings.",
    name: "Name", pinChoose: "PIN (4 to 8 digits)", pinAgain: "PIN again", createManager: "Create and sign in",
    pinsDiffer: "The two PINs differ.", cashier: "Cashier", manager: "Manager", locked: "locked",
    disabled: "disabled", staff: "Staff", role: "Role", addStaff: "Add", added: "Added",
    enable: "Enable", disable: "Disable", setPin: "Set PIN", pinSet: "PIN set",
    recentSales: "Recent sales", noSales: "No sales yet.", refund: "Refund", close: "Close",
    refunded: "refunded", refundedTotal: "Refunded; total refunded on this order:",
    managerOnly: "A manager signs in for this.", printed: "Sent to the printer",
    scanned: "Scanned", boundHere: "Bound to this store", printReceipt: "Print receipt",
    search: "Search", searchCustomers: "Name, phone or member code", phone: "Phone",
    memberCode: "Member code", binding: "Binding", bound: "Bound", unbound: "Not bound",
    noCustomers: "No customers of this store yet: they appear once they add the store in their wallet.",
    noMatch: "No customer matches", serverState: "Server", lastSync: "Last complete sync",
    nothingNeedsAttention: "Nothing needs attention.", takingsByHour: "Takings by hour",
    cashTopUps: "Cash top-ups", payments: "Payments", loading: "Loading…", exported: "Saved as",
    openCustomerDisplay: "Open the customer display", tapToClose: "Tap or press Esc to close",
    confirmationCode: "Confirmation code", compareCode: "should match the customer's screen",
    offlineBanner: "Offline: sales and top-ups keep working and sync when the server is back.",
    waitingToSync: "waiting to sync", minutesShort: "min", hoursShort: "h", daysShort: "d",
    advice: {
      customer_not_bound: "The customer is no longer bound to this store: the cash was not credited. Give it back or ask the customer to add the store again, then record a new top-up.",
      default: "The cash of this entry was not credited. Show this to the manager; keep the receipt.",
    },
  },
  zh: {
    appName: "Tillfund 收银台", sale: "收款", topUp: "充值", customers: "顾客", sync: "同步", settings: "设置",
    settlement: "日结",
    enrolTitle: "登记本收银台", enrolHint: "请输入资金服务器地址和运营方提供的激活码。",
    serverAddress: "服务器地址", activationCode: "激活码", counterName: "收银台名称",
    enrol: "登记", amount: "金额", showQr: "显示付款码（回车）",
    checkCode: "核对顾客确认码", cancel: "取消（Esc）", newSale: "新收款（回车）", print: "打印",
    printShortcut: "打印（Ctrl+P）",
    customer: "会员码或手机号", preview: "查看赠送", cashReceived: "已收现金 — 记录",
    pending: "等待服务器", oldest: "最早等待自", needsAttention: "需要处理",
    serverHeading: "资金服务器", address: "地址", version: "服务器版本", since: "起始时间",
    offlineHint: "离线时收银台照常工作；操作会在服务器恢复后自动同步。",
    checking: "正在检查…", online: "在线", offline: "离线", degraded: "服务器异常", incompatible: "需要更新",
    waiting: "等待付款…", paid: "已付款", expired: "已过期，请重新生成", cancelled: "已取消",
    codeWrong: "确认码与订单不符。",
    topUpPending: "已记录，等待服务器确认", topUpConfirmed: "服务器已确认", topUpRejected: "服务器已拒绝",
    bonus: "赠送", nothingWaiting: "无",
    load: "查看当日", closeDay: "日结关账", exportCsv: "导出 CSV",
    matches: "与服务器一致", differs: "与服务器不一致，关账前请核对",
    unreachable: "无法连接服务器：仅显示本收银台数据", closed: "已关账",
    preferences: "偏好设置", printer: "小票打印机", save: "保存", saved: "已保存",
    language: "语言", followSystem: "跟随系统",
    signOut: "退出", signIn: "登录（回车）", signInTitle: "登录", signInHint: "请选择您的名字，然后输入密码。",
    byCashier: "按收银员", noCashiers: "尚无收款。", shiftHours: "班次",
    refundsGiven: "退款", cashGivenBack: "退还现金", nobodySignedIn: "（未登录）",
    cashPaidOut: "兑现现金",
    staffStoreHint: "全店共用一份员工名单：在此添加、停用或重设密码的员工，在本店每台收银台都以同样方式登录。更改需要联网；登录可离线进行。",
    firstManagerTitle: "谁是本收银台的店长？", firstManagerHint: "第一位员工必须是店长，店长再在设置中添加收银员。",
    name: "姓名", pinChoose: "密码（4 到 8 位数字）", pinAgain: "再次输入密码", createManager: "创建并登录",
    pinsDiffer: "两次输入的密码不一致。", cashier: "收银员", manager: "店长", locked: "已锁定",
    disabled: "已停用", staff: "员工", role: "角色", addStaff: "添加", added: "已添加",
    enable: "启用", disable: "停用", setPin: "设置密码", pinSet: "密码已设置",
    recentSales: "最近收款", noSales: "暂无收款。", refund: "退款", close: "关闭",
    refunded: "已退", refundedTotal: "已退款；本单累计退款：",
    managerOnly: "此操作需店长登录。", printed: "已发送到打印机",
    scanned: "已扫码", boundHere: "已绑定本店", printReceipt: "打印小票",
    search: "搜索", searchCustomers: "姓名、手机号或会员码", phone: "手机号",
    memberCode: "会员码", binding: "绑定", bound: "已绑定", unbound: "未绑定",
    noCustomers: "本店还没有顾客：顾客在钱包中添加本店后会显示在这里。",
    noMatch: "没有匹配的顾客：", serverState: "服务器", lastSync: "上次完整同步",
    nothingNeedsAttention: "没有需要处理的事项。", takingsByHour: "每小时收入",
    cashTopUps: "现金充值", payments: "付款", loading: "正在加载…", exported: "已保存为",
    openCustomerDisplay: "打开顾客显示屏", tapToClose: "点击或按 Esc 关闭",
    confirmationCode: "确认码", compareCode: "应与顾客屏幕上的一致",
    offlineBanner: "离线：收款和充值照常进行，服务器恢复后自动同步。",
    waitingToSync: "条待同步", minutesShort: "分钟", hoursShort: "小时", daysShort: "天",
    advice: {
      customer_not_bound: "该顾客已不再绑定本店：这笔现金没有入账。请退还现金，或请顾客重新添加本店后再充值。",
      default: "这笔现金没有入账。请交给店长处理，并保留小票。",
    },
  },
};

/// Messages for the errors a cashier meets most, in Chinese; English uses the server's
/// and the counter's own messages, which are written for the cashier already.

/// The system locale unless the cashier chose a language (kept in this window's storage).
const chosenLanguage = localStorage.getItem("language") || "auto";
const systemLanguage = (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
const language = chosenLanguage === "auto" ? systemLanguage : chosenLanguage;
const locale = language === "zh" ? "zh-CN" : "en-GB";
// desk.js, loaded before, brings its texts; drawer.js, after, adds its own to TEXT too.
Object.assign(TEXT.en, DESK_TEXT.en);
Object.assign(TEXT.zh, DESK_TEXT.zh);
const text = TEXT[language];
const tauri = window.__TAURI__;
const $ = (id) => document.getElementById(id);

let profile = null;
/** @type {StaffSession | null} */
let session = null;
/** @type {OrderView | null} */
let openOrder = null;
let orderTimer = null;
let signInStaffId = null;
let lastTopUp = null;
let refundOrderId = null;
let connectionState = "checking";
/// The day on the Day screen is open and its drawer not counted: its figures stay hidden.
let dayCountNeeded = false;

function money(minorUnits) {
  const sign = minorUnits < 0 ? "-" : "";
  const units = Math.abs(minorUnits);
  return `${sign}${Math.floor(units / 100)}.${String(units % 100).padStart(2, "0")}`;
}

function withCurrency(minorUnits) {
  return `${money(minorUnits)} ${profile ? profile.currency : ""}`.trim();
}

function errorText(error) {
  if (!error) return "";
  // Chinese texts come with the error, from the Rust side's tables of codes.
  if (language === "zh" && error.message_zh) return error.message_zh;
  return error.message || String(error);
}

function showError(id, error) {
  const element = $(id);
  element.hidden = !error;
  element.textContent = errorText(error);
}

function setStatus(id, status, message) {
  const element = $(id);
  element.dataset.status = status;
  element.textContent = message;
}

/// Every command goes through here: a shift that ended sends the cashier to sign in.
async function call(command, args = {}) {
  try {
    return await tauri.core.invoke(command, args);
  } catch (error) {
    if (error && error.code === "sign_in_required" && session) {
      session = null;
      showSession();
      showScreen("signin");
    }
    throw error;
  }
}

function time(ms) {
  return new Date(ms).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

function applyStaticText() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-text]")) {
    const value = text[element.dataset.text];
    if (value) element.textContent = value;
  }
  for (const element of document.querySelectorAll("[data-placeholder]")) {
    element.placeholder = text[element.dataset.placeholder] || "";
  }
}

function isManager() {
  return Boolean(session && session.role === "manager");
}

/// Manager-only controls stay visible (so nobody hunts for them) but say who may use them.
function applyRole() {
  // Before the blind count, nothing that shows or prints the day's cash.
  for (const id of ["settlement-close", "settlement-export", "settlement-print"]) {
    $(id).disabled = !isManager() || dayCountNeeded;
    $(id).title = !isManager() ? text.managerOnly : dayCountNeeded ? text.countFirst : "";
  }
  for (const element of document.querySelectorAll("#staff-form input, #staff-form select, #staff-form button, #printer-form input, #printer-form button")) {
    element.disabled = !isManager();
  }
  applyDeskRole();
}

function showScreen(name) {
  if (!profile) name = "enrol";
  else if (!session) name = "signin";
  closeOverlay();
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  for (const button of document.querySelectorAll("#nav button")) {
    button.classList.toggle("active", button.dataset.screen === name);
  }
  $("nav").hidden = !profile || !session;
  if (name === "signin") loadStaffForSignIn();
  if (name === "sale") refreshSales();
  if (name === "sync") refreshSync();
  if (name === "settlement") loadDay();
  if (name === "customers") searchCustomers();
  if (name === "settings") refreshStaff();
  deskScreenShown(name);
  soundScreenShown(name);
  const focus = { sale: "sale-amount", topup: "topup-customer", enrol: "enrol-server", customers: "customers-query" }[name];
  if (focus && !(name === "sale" && openOrder)) $(focus).focus();
}

function currentScreen() {
  const shown = document.querySelector(".screen:not([hidden])");
  return shown ? shown.id.replace("screen-", "") : null;
}

function showConnection(status) {
  connectionState = status.state;
  $("connection").dataset.state = status.state;
  $("connection-state").textContent = text[status.state] || status.state;
  $("sync-connection").textContent = text[status.state] || status.state;
  $("server-url").textContent = status.server_url;
  $("server-version").textContent = status.server_version || "—";
  $("connection-since").textContent = new Date(status.since_ms).toLocaleTimeString(locale);
  const problem = $("connection-problem");
  problem.hidden = !status.problem;
  problem.textContent = status.problem || "";
  showBanner();
}

let pendingCount = 0;

function showBanner() {
  const banner = $("offline-banner");
  banner.hidden = !profile || connectionState !== "offline";
  banner.textContent = pendingCount > 0 ? `${text.offlineBanner} ${pendingCount} ${text.waitingToSync}` : text.offlineBanner;
}

function showProfile(value) {
  profile = value;
  $("store-name").textContent = profile ? `· ${profile.merchant_name}` : "";
  if (profile) $("settlement-day").value = todayText();
}

function showSession() {
  $("staff-name").hidden = !session;
  $("sign-out").hidden = !session;
  $("staff-name").textContent = session ? `${session.name} · ${text[session.role]}` : "";
  $("nav").hidden = !profile || !session;
  applyRole();
}

/** @type {CustomerDisplay | null} */
let shownToCustomer = null;

/// What the customer-facing window shows; it may not be open, which is fine.
function display(/** @type {CustomerDisplay} */ state) {
  shownToCustomer = state;
  tauri.core.invoke("show_customer", { display: state }).catch(() => {});
}

/// Back to the welcome a moment after `state`, unless something else (a payment, the
/// next top-up) has been shown to the customer in the meantime.
function welcomeAfter(/** @type {CustomerDisplay | null} */ state, /** @type {number} */ ms) {
  setTimeout(() => {
    if (shownToCustomer === state) display({ kind: "welcome" });
  }, ms);
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
    showScreen("signin");
  } catch (error) {
    showError("enrol-error", error);
  } finally {
    $("enrol-submit").disabled = false;
  }
}

// ---- sign-in ----

async function loadStaffForSignIn() {
  showError("signin-error", null);
  /** @type {StaffState} */
  const state = await call("staff_state");
  const active = state.members.filter((member) => member.active);
  $("first-manager").hidden = state.members.length > 0;
  $("signin-choose").hidden = state.members.length === 0;
  if (state.members.length === 0) {
    $("first-manager-name").focus();
    return;
  }
  $("signin-staff").replaceChildren(...active.map((member) => {
    const tile = document.createElement("button");
    tile.type = "button";
    tile.className = "tile";
    tile.dataset.staffId = member.staff_id;
    const locked = member.locked_until_ms && member.locked_until_ms > Date.now();
    tile.innerHTML = "<strong></strong><span></span>";
    tile.querySelector("strong").textContent = member.name;
    tile.querySelector("span").textContent = locked ? `${text[member.role]} · ${text.locked}` : text[member.role];
    tile.addEventListener("click", () => chooseStaff(member));
    return tile;
  }));
  $("signin-form").hidden = true;
  if (active.length === 1) chooseStaff(active[0]);
}

function chooseStaff(member) {
  signInStaffId = member.staff_id;
  for (const tile of document.querySelectorAll("#signin-staff .tile")) {
    tile.classList.toggle("active", tile.dataset.staffId === member.staff_id);
  }
  $("signin-who").textContent = member.name;
  $("signin-form").hidden = false;
  $("signin-pin").value = "";
  $("signin-pin").focus();
}

function pinKeypad(event) {
  const key = event.target.closest("button");
  if (!key) return;
  const input = $("signin-pin");
  if (key.dataset.key === "back") input.value = input.value.slice(0, -1);
  else if (key.dataset.key === "clear") input.value = "";
  else input.value = (input.value + key.textContent).slice(0, 8);
  input.focus();
}

async function signIn(event) {
  event.preventDefault();
  showError("signin-error", null);
  try {
    session = await call("sign_in", { staffId: signInStaffId, pin: $("signin-pin").value });
    showSession();
    showScreen("sale");
  } catch (error) {
    $("signin-pin").value = "";
    showError("signin-error", error);
  }
}

async function createFirstManager(event) {
  event.preventDefault();
  showError("signin-error", null);
  if ($("first-manager-pin").value !== $("first-manager-pin-again").value) {
    showError("signin-error", { message: text.pinsDiffer });
    return;
  }
  try {
    await call("add_staff", { name: $("first-manager-name").value, role: "manager", pin: $("first-manager-pin").value });
    session = (await call("staff_state")).current;
    showSession();
    showScreen("sale");
  } catch (error) {
    // Another counter of the store made its staff meanwhile: they are pulled now; sign in.
    if (error.code === "store_has_staff") await loadStaffForSignIn();
    showError("signin-error", error);
  }
}

async function signOut() {
  await call("sign_out").catch(() => {});
  session = null;
  newSale();
  showSession();
  showScreen("signin");
}

async function checkShift() {
  if (!session) return;
  const state = await tauri.core.invoke("staff_state").catch(() => null);
  if (state && !state.current) {
    session = null;
    showSession();
    showScreen("signin");
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

function showOrder(/** @type {OrderView} */ order) {
  const previous = openOrder && openOrder.status;
  openOrder = order;
  const status = $("sale-status");
  status.dataset.status = order.status;
  status.textContent = { created: text.waiting, paid: text.paid, expired: text.expired, cancelled: text.cancelled }[order.status];
  const paidCode = $("sale-paid-code");
  paidCode.hidden = !order.confirmation_code;
  paidCode.textContent = order.confirmation_code
    ? `${text.confirmationCode} ${order.confirmation_code} — ${text.compareCode}` : "";
  $("sale-code-form").hidden = order.status !== "created";
  $("sale-cancel").hidden = order.status !== "created";
  $("sale-qr-button").hidden = order.status !== "created";
  soundFollowsOrder(order);
  if (order.status !== "created") {
    stopOrderTimer();
    closeOverlay();
  }
  if (previous !== order.status) {
    if (order.status === "paid") display({ kind: "paid", amount: withCurrency(order.amount) });
    else if (order.status !== "created") display({ kind: "welcome" });
    if (order.status !== "created") refreshSales();
  }
}

function stopOrderTimer() {
  if (orderTimer) clearTimeout(orderTimer);
  orderTimer = null;
}

/// Reads the open order again: after a payment announcement and when its code expires.
async function refreshOpenOrder() {
  if (!openOrder) return;
  try {
    showOrder(await call("order", { orderId: openOrder.order_id }));
  } catch (error) {
    stopOrderTimer();
  }
}

function orderPaid(/** @type {OrderPaid} */ paid) {
  if (!openOrder || openOrder.status !== "created") return;
  if (paid.order_id === null || paid.order_id === openOrder.order_id) refreshOpenOrder();
}

async function createOrder(event) {
  event.preventDefault();
  showError("sale-error", null);
  try {
    /** @type {OrderView} */
    const order = await call("create_order", { amount: $("sale-amount").value });
    openOrder = null;
    $("sale-order").dataset.payUrl = order.pay_url;
    $("sale-form").hidden = true;
    $("sale-order").hidden = false;
    $("sale-order-amount").textContent = withCurrency(order.amount);
    $("sale-order-number").textContent = order.receipt_number;
    $("sale-qr").src = order.qr_png;
    $("sale-code").value = "";
    showOrder(order);
    soundForNewOrder(order);
    display({ kind: "payment", amount: withCurrency(order.amount), qr_png: order.qr_png, expires_at_ms: order.expires_at_ms, sound_playing: false });
    stopOrderTimer();
    const untilExpiry = Math.max(0, order.expires_at_ms - Date.now()) + ORDER_EXPIRY_MARGIN_MS;
    orderTimer = setTimeout(refreshOpenOrder, untilExpiry);
    refreshSales();
  } catch (error) {
    showError("sale-error", error);
  }
}

async function checkCode(event) {
  event.preventDefault();
  try {
    await call("confirm_by_code", { orderId: openOrder.order_id, code: $("sale-code").value });
    showOrder(await call("order", { orderId: openOrder.order_id }));
  } catch (error) {
    $("sale-status").textContent = error.code === "confirmation_code_wrong" ? text.codeWrong : errorText(error);
  }
}

async function cancelOrder() {
  if (!openOrder || openOrder.status !== "created") return;
  try {
    await call("cancel_order", { orderId: openOrder.order_id });
    showOrder(await call("order", { orderId: openOrder.order_id }));
  } catch (error) {
    $("sale-status").textContent = errorText(error);
  }
}

async function printOrder(orderId) {
  try {
    await call("print_order", { orderId });
    setStatus("sales-result", "confirmed", text.printed);
  } catch (error) {
    setStatus("sales-result", "rejected", errorText(error));
  }
}

function newSale() {
  stopOrderTimer();
  stopPaymentSound();
  openOrder = null;
  closeOverlay();
  $("sale-order").hidden = true;
  $("sale-form").hidden = false;
  $("sale-amount").value = "";
  display({ kind: "welcome" });
  if (!$("screen-sale").hidden) $("sale-amount").focus();
}

function openOverlay() {
  if (!openOrder || openOrder.status !== "created") return;
  $("qr-overlay-amount").textContent = withCurrency(openOrder.amount);
  $("qr-overlay-image").src = openOrder.qr_png;
  $("qr-overlay").hidden = false;
}

function closeOverlay() {
  const wasOpen = !$("qr-overlay").hidden;
  $("qr-overlay").hidden = true;
  return wasOpen;
}

async function refreshSales() {
  if (!session) return;
  try {
    /** @type {OrderSummary[]} */
    const orders = await call("recent_orders", { limit: SALES_SHOWN });
    $("sales-empty").hidden = orders.length > 0;
    $("sales-table").hidden = orders.length === 0;
    $("sales-list").replaceChildren(...orders.map(saleRow));
  } catch (error) {
    setStatus("sales-result", "rejected", errorText(error));
  }
}

function saleRow(/** @type {OrderSummary} */ order) {
  const row = document.createElement("tr");
  row.dataset.orderId = order.order_id;
  const when = document.createElement("td");
  const number = document.createElement("small");
  number.textContent = order.receipt_number;
  when.append(time(order.created_at_ms), document.createElement("br"), number);
  const amount = document.createElement("td");
  amount.className = "amount";
  amount.textContent = money(order.amount);
  const status = document.createElement("td");
  const statusName = order.status === "created" ? text.waiting : text[order.status];
  status.textContent = order.refunded > 0 ? `${statusName} · ${text.refunded} ${money(order.refunded)}` : statusName;
  row.append(when, amount, status);
  const actions = document.createElement("td");
  actions.className = "actions";
  const print = document.createElement("button");
  print.type = "button";
  print.textContent = text.print;
  print.addEventListener("click", () => printOrder(order.order_id));
  actions.append(print);
  if (order.status === "paid" && order.refunded < order.amount) {
    const refund = document.createElement("button");
    refund.type = "button";
    refund.className = "refund-open";
    refund.textContent = text.refund;
    refund.disabled = !isManager();
    refund.title = isManager() ? "" : text.managerOnly;
    refund.addEventListener("click", () => openRefund(order));
    actions.append(refund);
  }
  row.append(actions);
  return row;
}

function openRefund(/** @type {OrderSummary} */ order) {
  refundOrderId = order.order_id;
  $("refund-order").textContent = `${order.receipt_number} · ${withCurrency(order.amount)}`;
  $("refund-amount").value = money(order.amount - order.refunded);
  $("refund-form").hidden = false;
  $("refund-amount").focus();
  $("refund-amount").select();
}

async function refund(event) {
  event.preventDefault();
  $("refund-submit").disabled = true;
  try {
    const total = await call("refund", { orderId: refundOrderId, amount: $("refund-amount").value });
    setStatus("sales-result", "confirmed", `${text.refundedTotal} ${withCurrency(total)}`);
    $("refund-form").hidden = true;
    refreshSales();
  } catch (error) {
    setStatus("sales-result", "rejected", errorText(error));
  } finally {
    $("refund-submit").disabled = false;
  }
}

// ---- top-up ----

async function previewTopUp(event) {
  event.preventDefault();
  showError("topup-error", null);
  showDrawerProblem(null);
  $("topup-result").textContent = "";
  $("topup-print").hidden = true;
  if (!$("topup-amount").value) {
    $("topup-amount").focus();
    return;
  }
  try {
    const preview = await call("preview_top_up", { customer: $("topup-customer").value, amount: $("topup-amount").value });
    $("topup-summary").textContent =
      `${preview.customer_name}: ${withCurrency(preview.amount)} + ${money(preview.bonus)} ${text.bonus}`;
    $("topup-confirm").hidden = false;
    $("topup-record").focus();
    display({ kind: "top_up", customer_name: preview.customer_name, amount: withCurrency(preview.amount), bonus: withCurrency(preview.bonus) });
  } catch (error) {
    $("topup-confirm").hidden = true;
    showError("topup-error", error);
  }
}

async function recordTopUp() {
  $("topup-record").disabled = true;
  try {
    const recorded = await call("record_top_up", { customer: $("topup-customer").value, amount: $("topup-amount").value });
    lastTopUp = recorded;
    showDrawerProblem(recorded.drawer_problem);
    refreshTopUps();
    $("topup-confirm").hidden = true;
    $("topup-print").hidden = false;
    setStatus("topup-result", "pending", `${recorded.receipt_number}: ${text.topUpPending}`);
    const timer = setInterval(async () => {
      const status = await call("top_up_status", { entryId: recorded.entry_id }).catch(() => null);
      if (!status || status.status === "pending") return;
      clearInterval(timer);
      refreshTopUps();
      if (!lastTopUp || lastTopUp.entry_id !== recorded.entry_id) return;
      setStatus("topup-result", status.status, status.status === "confirmed"
        ? `${recorded.receipt_number}: ${text.topUpConfirmed}`
        : `${recorded.receipt_number}: ${text.topUpRejected} — ${status.message}`);
    }, TOP_UP_POLL_MS);
    $("topup-customer").value = "";
    $("topup-amount").value = "";
    $("topup-scanned").hidden = true;
    $("topup-customer").focus();
    welcomeAfter(shownToCustomer, 3000);
  } catch (error) {
    showError("topup-error", error);
  } finally {
    $("topup-record").disabled = false;
  }
}

async function printTopUp() {
  if (!lastTopUp) return;
  try {
    await call("print_top_up", { entryId: lastTopUp.entry_id });
    setStatus("topup-result", "confirmed", text.printed);
  } catch (error) {
    showError("topup-error", error);
  }
}

/// A member code arrived from the scanner: straight to the amount.
function scannedMemberCode(code) {
  if (currentScreen() !== "topup") showScreen("topup");
  $("topup-customer").value = code;
  $("topup-scanned").hidden = false;
  $("topup-confirm").hidden = true;
  showError("topup-error", null);
  $("topup-amount").focus();
}

// ---- customers ----

let searchTimer = null;

async function searchCustomers(event) {
  if (event) event.preventDefault();
  showError("customers-error", null);
  const query = $("customers-query").value.trim();
  try {
    const customers = await call("customers", { query });
    $("customers-table").hidden = customers.length === 0;
    const empty = $("customers-empty");
    empty.hidden = customers.length > 0;
    empty.textContent = query ? `${text.noMatch} “${query}”` : text.noCustomers;
    $("customers-list").replaceChildren(...customers.map((customer) => {
      const row = document.createElement("tr");
      for (const value of [customer.display_name, customer.phone, customer.member_code, customer.bound ? text.bound : text.unbound]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      const actions = document.createElement("td");
      if (customer.bound) {
        const topUp = document.createElement("button");
        topUp.type = "button";
        topUp.textContent = text.topUp;
        topUp.addEventListener("click", () => {
          showScreen("topup");
          $("topup-customer").value = customer.phone;
          $("topup-scanned").hidden = true;
          $("topup-amount").focus();
        });
        actions.append(topUp);
      } else {
        row.classList.add("muted");
      }
      row.append(actions);
      return row;
    }));
  } catch (error) {
    showError("customers-error", error);
  }
}

// ---- sync ----

/// How long ago, in the largest whole unit: "4 min", "2 h", "3 d".
function age(ms) {
  const minutes = Math.max(0, Math.floor((Date.now() - ms) / 60000));
  if (minutes < 60) return `${minutes} ${text.minutesShort}`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} ${text.hoursShort}`;
  return `${Math.floor(minutes / (24 * 60))} ${text.daysShort}`;
}

async function refreshSync() {
  try {
    const status = await call("sync_status");
    pendingCount = status.pending;
    const badge = $("nav-pending");
    badge.hidden = status.pending === 0 && status.needs_attention.length === 0;
    badge.textContent = String(status.pending + status.needs_attention.length);
    badge.classList.toggle("alert", status.needs_attention.length > 0);
    showBanner();
    if ($("screen-sync").hidden) return;
    $("sync-pending").textContent = String(status.pending);
    $("sync-oldest").textContent = status.oldest_pending_ms
      ? `${new Date(status.oldest_pending_ms).toLocaleString(locale)} (${age(status.oldest_pending_ms)})`
      : text.nothingWaiting;
    $("sync-last").textContent = status.last_synced_ms ? new Date(status.last_synced_ms).toLocaleString(locale) : "—";
    $("sync-attention-empty").hidden = status.needs_attention.length > 0;
    $("sync-attention").replaceChildren(...status.needs_attention.map((item) => {
      const entry = document.createElement("li");
      const what = document.createElement("strong");
      what.textContent = `#${item.sequence} ${item.message}`;
      const todo = document.createElement("p");
      todo.className = "hint";
      todo.textContent = text.advice[item.code] || text.advice.default;
      entry.append(what, todo);
      return entry;
    }));
  } catch (error) {
    $("sync-pending").textContent = errorText(error);
  }
}

// ---- settlement ----

function drawChart(hours) {
  const chart = $("settlement-chart");
  const namespace = "http://www.w3.org/2000/svg";
  const width = 480;
  const height = 180;
  const barWidth = width / Math.max(hours.length, 1);
  const highest = Math.max(1, ...hours.map((hour) => Math.max(hour.cash, hour.payments)));
  const svg = document.createElementNS(namespace, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height + 20}`);
  svg.setAttribute("class", "chart-svg");
  const described = [];
  hours.forEach((hour, index) => {
    for (const [kind, value, offset] of [["cash", hour.cash, 0.1], ["payments", hour.payments, 0.5]]) {
      if (value <= 0) continue;
      const bar = document.createElementNS(namespace, "rect");
      const barHeight = Math.max(1, Math.round((value / highest) * height));
      bar.setAttribute("x", String(index * barWidth + barWidth * offset));
      bar.setAttribute("y", String(height - barHeight));
      bar.setAttribute("width", String(barWidth * 0.4));
      bar.setAttribute("height", String(barHeight));
      bar.setAttribute("class", kind);
      const title = document.createElementNS(namespace, "title");
      title.textContent = `${hour.starts} ${kind === "cash" ? text.cashTopUps : text.payments} ${money(value)}`;
      bar.append(title);
      svg.append(bar);
    }
    if (hour.cash > 0 || hour.payments > 0) described.push(`${hour.starts}: ${money(hour.cash)} / ${money(hour.payments)}`);
    if (index % 3 === 0) {
      const label = document.createElementNS(namespace, "text");
      label.setAttribute("x", String(index * barWidth));
      label.setAttribute("y", String(height + 15));
      label.textContent = hour.starts.slice(0, 2);
      svg.append(label);
    }
  });
  chart.replaceChildren(svg);
  chart.setAttribute("aria-label", `${text.takingsByHour}: ${described.join("; ") || "0"}`);
}

/// The shift report: each cashier's part of the day (none before the blind count).
function showCashiers(/** @type {CashierShift[]} */ shifts) {
  $("cashiers-empty").hidden = shifts.length > 0;
  $("cashiers-table").hidden = shifts.length === 0;
  $("cashiers-list").replaceChildren(...shifts.map((shift) => {
    const row = document.createElement("tr");
    const cells = [
      shift.name ?? text.nobodySignedIn,
      `${time(shift.first_at_ms)}–${time(shift.last_at_ms)}`,
      `${shift.top_up_count} · ${money(shift.cash)}`,
      `${shift.payment_count} · ${money(shift.payments)}`,
      `${shift.refund_count} · ${money(shift.refunds)}`,
      `${shift.reversal_count} · ${money(shift.reversed_cash)}`,
      `${shift.redemption_count} · ${money(shift.redeemed_cash)}`,
    ];
    row.replaceChildren(...cells.map((value) => {
      const cell = document.createElement("td");
      cell.textContent = value;
      return cell;
    }));
    return row;
  }));
}

function showDayReport(/** @type {DayReportView} */ view) {
  const report = view.report;
  const status = report.matches === true ? "confirmed" : report.matches === false ? "rejected" : "pending";
  const state = report.matches === true ? text.matches : report.matches === false ? text.differs : text.unreachable;
  setStatus("settlement-match", status, report.closed ? `${text.closed} · ${state}` : state);
  dayCountNeeded = view.count_needed;
  $("settlement-figures").hidden = dayCountNeeded;
  $("settlement-z-report").hidden = dayCountNeeded;
  $("cashiers").hidden = dayCountNeeded;
  $("settlement-z-report").textContent = dayCountNeeded ? "" : view.z_report;
  if (dayCountNeeded) setStatus("drawer-result", "pending", text.countFirst);
  else drawChart(report.hours);
  showCashiers(report.cashiers);
  $("settlement-close").hidden = report.closed;
  applyRole();
  showDrawer(dayCountNeeded, report.closed);
}

async function loadDay(event) {
  if (event) event.preventDefault();
  showError("settlement-error", null);
  setStatus("settlement-match", "pending", text.loading);
  $("settlement-result").textContent = "";
  $("drawer-result").textContent = "";
  try {
    showDayReport(await call("day_report", { day: $("settlement-day").value, language }));
  } catch (error) {
    $("settlement-match").textContent = "";
    showError("settlement-error", error);
  }
}

async function closeDay() {
  showError("settlement-error", null);
  $("settlement-close").disabled = true;
  try {
    showDayReport(await call("close_day", { day: $("settlement-day").value, language }));
  } catch (error) {
    showError("settlement-error", error);
  } finally {
    applyRole();
  }
}

async function printDay() {
  try {
    await call("print_day_report", { day: $("settlement-day").value, language });
    setStatus("settlement-result", "confirmed", text.printed);
  } catch (error) {
    showError("settlement-error", error);
  }
}

async function exportDay() {
  try {
    const path = await call("export_day_csv", { day: $("settlement-day").value });
    setStatus("settlement-result", "confirmed", `${text.exported} ${path}`);
  } catch (error) {
    showError("settlement-error", error);
  }
}

/** Today in the store's time zone (YYYY-MM-DD): the business day the server settles. */
function todayText() {
  const now = new Date();
  if (profile && profile.time_zone) {
    try {
      // The parts, not a formatted string: a locale's date order does not matter.
      const parts = new Intl.DateTimeFormat("en-US", {
        timeZone: profile.time_zone, year: "numeric", month: "2-digit", day: "2-digit",
      }).formatToParts(now);
      const part = (type) => parts.find((item) => item.type === type)?.value;
      const [year, month, day] = [part("year"), part("month"), part("day")];
      if (year && month && day) return `${year}-${month}-${day}`;
    } catch (_) {
      // An unknown zone falls back to the machine's date.
    }
  }
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

// ---- settings ----

async function savePrinter(event) {
  event.preventDefault();
  try {
    $("printer-setting").value = await call("set_printer", { setting: $("printer-setting").value });
    setStatus("printer-result", "confirmed", text.saved);
    refreshDrawer();
  } catch (error) {
    setStatus("printer-result", "rejected", errorText(error));
  }
}

function chooseLanguage(event) {
  localStorage.setItem("language", event.target.value);
  window.location.reload();
}

async function refreshStaff() {
  try {
    /** @type {StaffState} */
    const state = await call("staff_state");
    $("staff-list").replaceChildren(...state.members.map((member) => {
      const item = document.createElement("li");
      item.dataset.staffId = member.staff_id;
      const who = document.createElement("span");
      const flags = [text[member.role]];
      if (!member.active) flags.push(text.disabled);
      if (member.locked_until_ms && member.locked_until_ms > Date.now()) flags.push(text.locked);
      who.textContent = `${member.name} · ${flags.join(" · ")}`;
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.textContent = member.active ? text.disable : text.enable;
      toggle.disabled = !isManager();
      toggle.addEventListener("click", () => staffAction("set_staff_active", { staffId: member.staff_id, active: !member.active }, text.saved));
      const pin = document.createElement("input");
      pin.type = "password";
      pin.inputMode = "numeric";
      pin.maxLength = 8;
      pin.placeholder = "PIN";
      pin.setAttribute("aria-label", `${member.name} PIN`);
      pin.disabled = !isManager();
      const setPin = document.createElement("button");
      setPin.type = "button";
      setPin.textContent = text.setPin;
      setPin.disabled = !isManager();
      setPin.addEventListener("click", () => staffAction("reset_staff_pin", { staffId: member.staff_id, pin: pin.value }, text.pinSet));
      item.append(who, toggle, pin, setPin);
      return item;
    }));
  } catch (error) {
    setStatus("staff-result", "rejected", errorText(error));
  }
}

async function staffAction(command, args, done) {
  try {
    await call(command, args);
    setStatus("staff-result", "confirmed", done);
    refreshStaff();
  } catch (error) {
    setStatus("staff-result", "rejected", errorText(error));
  }
}

async function addStaff(event) {
  event.preventDefault();
  await staffAction("add_staff", {
    name: $("staff-name-input").value, role: $("staff-role").value, pin: $("staff-pin").value,
  }, text.added);
  if ($("staff-result").dataset.status === "confirmed") {
    $("staff-name-input").value = "";
    $("staff-pin").value = "";
  }
}

// ---- keyboard ----

const scanner = new ScanDetector();

/// Runs before any field sees the key: a scanner's burst becomes a top-up lookup wherever
/// the focus was, and its Enter never submits the form the digits landed in.
function detectScan(event) {
  const scanned = scanner.feed(event.key, event.timeStamp);
  if (!scanned || !session) return;
  event.preventDefault();
  event.stopPropagation();
  const field = document.activeElement;
  if (field && "value" in field && field.value.endsWith(scanned)) {
    field.value = field.value.slice(0, -scanned.length);
  }
  scannedMemberCode(scanned);
}

function shortcuts(event) {
  const screens = { F1: "sale", F2: "topup", F3: "customers", F4: "sync", F5: "settlement", F6: "settings" };
  if (screens[event.key]) {
    event.preventDefault();
    if (profile && session) showScreen(screens[event.key]);
  } else if (event.key === "F12") {
    event.preventDefault();
    if (session) signOut();
  } else if (event.key === "Escape") {
    if (closeOverlay()) return;
    if (openOrder && openOrder.status === "created") cancelOrder();
    else if (!$("refund-form").hidden) $("refund-form").hidden = true;
    else if (!$("reversal-form").hidden) closeReversal();
  } else if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "p") {
    // Ctrl+P prints the receipt of what is on screen, never the web page.
    event.preventDefault();
    if (currentScreen() === "sale" && openOrder) printOrder(openOrder.order_id);
    else if (currentScreen() === "topup" && lastTopUp) printTopUp();
    else if (currentScreen() === "settlement" && isManager()) printDay();
  } else if (event.key === "Enter" && currentScreen() === "sale" && openOrder
      && openOrder.status !== "created" && !(event.target instanceof HTMLInputElement)) {
    // The sale is over: Enter starts the next one.
    event.preventDefault();
    newSale();
  } else if (event.key === "Enter" && event.target === $("topup-customer")) {
    // A typed phone number or code: on to the amount rather than a half-filled preview.
    event.preventDefault();
    $("topup-amount").focus();
  }
}

async function start() {
  applyStaticText();
  $("nav").addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button) showScreen(button.dataset.screen);
  });
  $("sign-out").addEventListener("click", signOut);
  $("enrol-form").addEventListener("submit", enrol);
  $("first-manager-form").addEventListener("submit", createFirstManager);
  $("signin-form").addEventListener("submit", signIn);
  $("signin-keypad").addEventListener("click", pinKeypad);
  $("sale-keypad").addEventListener("click", keypad);
  $("sale-form").addEventListener("submit", createOrder);
  $("sale-code-form").addEventListener("submit", checkCode);
  $("sale-cancel").addEventListener("click", cancelOrder);
  $("sale-print").addEventListener("click", () => openOrder && printOrder(openOrder.order_id));
  $("sale-new").addEventListener("click", newSale);
  $("sale-qr-button").addEventListener("click", openOverlay);
  $("qr-overlay").addEventListener("click", closeOverlay);
  $("refund-form").addEventListener("submit", refund);
  $("refund-close").addEventListener("click", () => { $("refund-form").hidden = true; });
  $("topup-form").addEventListener("submit", previewTopUp);
  $("topup-record").addEventListener("click", recordTopUp);
  $("topup-print").addEventListener("click", printTopUp);
  $("topup-customer").addEventListener("input", () => { $("topup-scanned").hidden = true; });
  $("customers-form").addEventListener("submit", searchCustomers);
  $("customers-query").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(searchCustomers, 200);
  });
  $("settlement-day").value = todayText();
  $("settlement-form").addEventListener("submit", loadDay);
  $("settlement-close").addEventListener("click", closeDay);
  $("settlement-print").addEventListener("click", printDay);
  $("settlement-export").addEventListener("click", exportDay);
  $("printer-form").addEventListener("submit", savePrinter);
  $("staff-form").addEventListener("submit", addStaff);
  startDesk();
  $("open-customer-display").addEventListener("click", () => call("open_customer_display").catch(() => {}));
  $("language-select").value = chosenLanguage;
  $("language-select").addEventListener("change", chooseLanguage);
  document.addEventListener("keydown", detectScan, true);
  document.addEventListener("keydown", shortcuts);
  setInterval(() => { if (profile) refreshSync(); }, SYNC_POLL_MS);
  setInterval(checkShift, SHIFT_POLL_MS);

  await tauri.event.listen(CONNECTION_CHANGED, (event) => showConnection(event.payload));
  await tauri.event.listen(ORDER_PAID, (event) => orderPaid(event.payload));
  const status = await call("connection_status");
  showConnection(status);
  $("enrol-server").value = status.server_url;
  showProfile(await call("counter_profile"));
  $("printer-setting").value = (await call("printer")) || "";
  if (profile) session = (await call("staff_state")).current;
  showSession();
  showScreen("sale");
  document.body.dataset.ready = "true";
  // After the first paint: the start-up time in the log, and what the start benchmark awaits.
  requestAnimationFrame(() => setTimeout(() => call("ui_ready").catch(() => {}), 0));
}

start().catch((error) => {
  const problem = $("connection-problem");
  problem.hidden = false;
  problem.textContent = String(error.message || error);
});
