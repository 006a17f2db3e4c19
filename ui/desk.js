// The cash desk's edges: the cash drawer (Settings' test button and the setting that opens
// it on cash top-ups), top-up reversals (the Top-up screen's recent top-ups) and enrolling
// the counter again (Settings). Loaded before main.js, which merges DESK_TEXT into its
// texts and calls in here (the Day screen's drawer money is drawer.js); the helpers used below ($, call, text, money, withCurrency,
// errorText, showError, setStatus, isManager, time, session, profile, showProfile,
// refreshStaff) are main.js's, read only once the window has started.
"use strict";

/** @typedef {import("./types").RecentTopUp} RecentTopUp */
/** @typedef {import("./types").ReversalDone} ReversalDone */
/** @typedef {import("./types").RedemptionView} RedemptionView */
/** @typedef {import("./types").DrawerSettings} DrawerSettings */
/** @typedef {import("./types").ReEnrolmentView} ReEnrolmentView */

const TOP_UPS_SHOWN = 10;

const DESK_TEXT = {
  en: {
    recentTopUps: "Recent top-ups", noTopUps: "No top-ups yet.", reverse: "Reverse",
    reverseAmount: "Cash to give back", reverseConfirm: "Yes, give the cash back", back: "Back",
    reversalQuestion: "Give back in cash, and take it out of the wallet:",
    reversedGiveBack: "Give back in cash", bonusClawedBack: "bonus taken back", walletNow: "wallet now",
    reversed: "reversed", reversalWaiting: "reversal waiting for the server",
    earlierEnrolment: "earlier enrolment: not reversible here",
    drawerOnTopUp: "Open the cash drawer on cash top-ups", drawerTest: "Open the drawer",
    drawerNeedsPrinter: "The drawer is opened through the receipt printer: set the printer first.",
    drawerOpened: "The drawer was sent the open command",
    enrolment: "Enrolment", terminal: "Terminal", store: "Store",
    reEnrolHint: "After the operator revoked this counter or moved it to another store: enrol it again with a new activation code. Nothing may wait for the server.",
    reEnrol: "Enrol again…", reEnrolConfirm: "Yes, enrol again",
    reEnrolQuestion: "This counter stops being terminal {terminal}. Its history and staff stay; the customer list is fetched again. Moving to another store? Close today's day here first. Enrol again?",
    reEnrolled: "Enrolled again as terminal", was: "was", storeChanged: "This counter now serves another store.",
    cashOut: "Cash out", payOut: "Pay out", cashOutCode: "The customer's code",
    cashOutHint: "The customer asks for cash in their wallet (with the PIN) and reads out the 8-digit code. Principal and yield are paid out; the bonus stays behind. Needs the server; a manager's act.",
    paidOut: "Pay out", to: "to", walletClosed: "the customer closed the wallet",
  },
  zh: {
    recentTopUps: "最近充值", noTopUps: "暂无充值。", reverse: "撤销",
    reverseAmount: "退还现金", reverseConfirm: "确认退还现金", back: "返回",
    reversalQuestion: "退还现金并从钱包中扣回：",
    reversedGiveBack: "退还现金", bonusClawedBack: "扣回赠送", walletNow: "钱包余额",
    reversed: "已撤销", reversalWaiting: "撤销等待服务器回复",
    earlierEnrolment: "较早的登记：无法在此撤销",
    drawerOnTopUp: "现金充值时打开钱箱", drawerTest: "打开钱箱",
    drawerNeedsPrinter: "钱箱通过小票打印机打开：请先设置打印机。",
    drawerOpened: "已向钱箱发送打开指令",
    enrolment: "登记", terminal: "终端", store: "门店",
    reEnrolHint: "运营方撤销本收银台或将其转到其他门店后：用新的激活码重新登记。须无任何记录等待服务器。",
    reEnrol: "重新登记…", reEnrolConfirm: "确认重新登记",
    reEnrolQuestion: "本收银台将不再是终端 {terminal}。历史记录和员工保留，顾客名单将重新获取。如转到其他门店，请先在此日结。确认重新登记？",
    reEnrolled: "已重新登记为终端", was: "原为", storeChanged: "本收银台现在服务于另一家门店。",
    cashOut: "兑现", payOut: "兑现付款", cashOutCode: "顾客的兑现码",
    cashOutHint: "顾客在钱包中（输入密码后）申请兑现并报出 8 位兑现码。兑付本金与收益，赠送金额不兑现。需要联网，仅限店长。",
    paidOut: "付出现金", to: "给", walletClosed: "顾客已注销钱包",
  },
};

/** @type {RecentTopUp | null} */
let reversalTopUp = null;
/** The last payout's journal entry, for its receipt. */
let lastPayout = null;
let drawerPrinterSet = false;

// ---- the drawer ----

async function refreshDrawer() {
  try {
    /** @type {DrawerSettings} */
    const settings = await call("drawer_settings");
    drawerPrinterSet = settings.printer_set;
    $("drawer-on-top-up").checked = settings.open_on_cash_top_up && settings.printer_set;
    $("drawer-hint").hidden = settings.printer_set;
  } catch (error) {
    setStatus("drawer-kick-result", "rejected", errorText(error));
  }
  applyDeskRole();
}

async function setDrawerOnTopUp(event) {
  try {
    await call("set_drawer_on_cash_top_up", { open: event.target.checked });
    setStatus("drawer-kick-result", "confirmed", text.saved);
  } catch (error) {
    setStatus("drawer-kick-result", "rejected", errorText(error));
    refreshDrawer();
  }
}

async function testDrawer() {
  try {
    await call("open_drawer");
    setStatus("drawer-kick-result", "confirmed", text.drawerOpened);
  } catch (error) {
    setStatus("drawer-kick-result", "rejected", errorText(error));
  }
}

/// After a cash top-up: the drawer's problem, if it had one; the top-up stands.
function showDrawerProblem(problem) {
  showError("topup-drawer", problem || null);
}

// ---- top-up reversals ----

async function refreshTopUps() {
  if (!session) return;
  try {
    /** @type {RecentTopUp[]} */
    const topUps = await call("recent_top_ups", { limit: TOP_UPS_SHOWN });
    $("topups-empty").hidden = topUps.length > 0;
    $("topups-table").hidden = topUps.length === 0;
    $("topups-list").replaceChildren(...topUps.map(topUpRow));
  } catch (error) {
    setStatus("reversal-result", "rejected", errorText(error));
  }
}

function topUpRow(/** @type {RecentTopUp} */ topUp) {
  const row = document.createElement("tr");
  row.dataset.entryId = topUp.entry_id;
  const when = document.createElement("td");
  const number = document.createElement("small");
  number.textContent = topUp.receipt_number;
  when.append(time(topUp.recorded_at_ms), document.createElement("br"), number);
  // Who, and below it where the top-up stands: four columns fit the side card.
  const who = document.createElement("td");
  const status = document.createElement("small");
  who.append(topUp.customer_name || "—", document.createElement("br"), status);
  const amount = document.createElement("td");
  amount.className = "amount";
  amount.textContent = money(topUp.amount);
  const states = [{ pending: text.topUpPending, confirmed: text.topUpConfirmed, rejected: text.topUpRejected }[topUp.status]];
  if (topUp.reversed > 0) states.push(`${text.reversed} ${money(topUp.reversed)}`);
  if (topUp.reversal_unanswered) states.push(text.reversalWaiting);
  if (topUp.earlier_enrolment) states.push(text.earlierEnrolment);
  status.textContent = states.join(" · ");
  const actions = document.createElement("td");
  actions.className = "actions";
  const reversible = topUp.reversed < topUp.amount || topUp.reversal_unanswered;
  if (topUp.status === "confirmed" && !topUp.earlier_enrolment && reversible) {
    const reverse = document.createElement("button");
    reverse.type = "button";
    reverse.className = "reversal-open";
    reverse.textContent = text.reverse;
    reverse.disabled = !isManager();
    reverse.title = isManager() ? "" : text.managerOnly;
    reverse.addEventListener("click", () => openReversal(topUp));
    actions.append(reverse);
  }
  row.append(when, who, amount, actions);
  return row;
}

function openReversal(/** @type {RecentTopUp} */ topUp) {
  reversalTopUp = topUp;
  showError("reversal-error", null);
  $("reversal-result").textContent = "";
  $("reversal-topup").textContent = `${topUp.receipt_number} · ${topUp.customer_name || ""} · ${withCurrency(topUp.amount)}`;
  $("reversal-amount").value = money(Math.max(0, topUp.amount - topUp.reversed));
  $("reversal-confirm").hidden = true;
  $("reversal-form").hidden = false;
  $("reversal-amount").focus();
  $("reversal-amount").select();
}

/// The form's submit asks first: cash leaves the drawer and money leaves a wallet.
function askReversal(event) {
  event.preventDefault();
  if (!reversalTopUp) return;
  $("reversal-question").textContent =
    `${text.reversalQuestion} ${$("reversal-amount").value.trim()} ${profile ? profile.currency : ""} (${reversalTopUp.receipt_number})`;
  $("reversal-confirm").hidden = false;
  $("reversal-yes").focus();
}

async function reverseTopUp() {
  if (!reversalTopUp) return;
  $("reversal-yes").disabled = true;
  showError("reversal-error", null);
  try {
    /** @type {ReversalDone} */
    const done = await call("reverse_top_up", { entryId: reversalTopUp.entry_id, amount: $("reversal-amount").value });
    setStatus("reversal-result", "confirmed",
      `${text.reversedGiveBack} ${withCurrency(done.amount)} · ${text.bonusClawedBack} ${withCurrency(done.bonus_clawed_back)} · ${text.walletNow} ${withCurrency(done.wallet_balance)}`);
    $("reversal-form").hidden = true;
    reversalTopUp = null;
  } catch (error) {
    $("reversal-confirm").hidden = true;
    showError("reversal-error", error);
  } finally {
    $("reversal-yes").disabled = false;
    refreshTopUps();
  }
}

// ---- cash out ----

async function payOut(event) {
  event.preventDefault();
  showError("cashout-error", null);
  $("cashout-result").textContent = "";
  $("cashout-print").hidden = true;
  $("cashout-submit").disabled = true;
  try {
    /** @type {RedemptionView} */
    const paid = await call("redeem", {
      customer: $("cashout-customer").value,
      code: $("cashout-code").value,
      amount: $("cashout-amount").value,
    });
    const done = paid.done;
    setStatus("cashout-result", "confirmed",
      `${text.paidOut} ${withCurrency(done.cash)} ${text.to} ${done.customer_name} · ${text.bonusClawedBack} ${withCurrency(done.bonus_clawed_back)} · ${text.walletNow} ${withCurrency(done.wallet_balance)}`);
    if (done.wallet_closed) $("cashout-result").textContent += ` · ${text.walletClosed}`;
    $("cashout-code").value = "";
    lastPayout = done.entry_sequence;
    $("cashout-print").hidden = false;
    showDrawerProblem(paid.drawer_problem);
  } catch (error) {
    showError("cashout-error", error);
  } finally {
    $("cashout-submit").disabled = !isManager();
  }
}

async function printPayout() {
  if (lastPayout === null) return;
  try {
    await call("print_redemption", { entrySequence: lastPayout });
    setStatus("cashout-result", "confirmed", text.printed);
  } catch (error) {
    showError("cashout-error", error);
  }
}

function closeReversal() {
  $("reversal-form").hidden = true;
  reversalTopUp = null;
}

// ---- enrolling again ----

function showEnrolment() {
  $("enrolment-terminal").textContent = profile ? profile.terminal_id : "—";
  $("enrolment-store").textContent = profile ? profile.merchant_name : "—";
  if (profile && !$("re-enrol-server").value) $("re-enrol-server").value = profile.server_url;
}

function askReEnrol(event) {
  event.preventDefault();
  showError("re-enrol-error", null);
  $("re-enrol-result").textContent = "";
  $("re-enrol-question").textContent = text.reEnrolQuestion.replace("{terminal}", profile ? profile.terminal_id : "");
  $("re-enrol-confirm").hidden = false;
  $("re-enrol-yes").focus();
}

async function reEnrol() {
  $("re-enrol-yes").disabled = true;
  try {
    /** @type {ReEnrolmentView} */
    const done = await call("re_enrol", {
      serverUrl: $("re-enrol-server").value,
      activationCode: $("re-enrol-code").value,
      label: $("re-enrol-label").value,
    });
    showProfile(done.profile);
    showEnrolment();
    refreshStaff();
    $("re-enrol-code").value = "";
    const moved = done.store_changed ? ` ${text.storeChanged}` : "";
    setStatus("re-enrol-result", "confirmed",
      `${text.reEnrolled} ${done.profile.terminal_id} (${text.was} ${done.previous_terminal_id}).${moved}`);
  } catch (error) {
    showError("re-enrol-error", error);
  } finally {
    $("re-enrol-confirm").hidden = true;
    $("re-enrol-yes").disabled = false;
  }
}

// ---- wiring ----

/// Manager-only controls stay visible and say who may use them (as main.js's applyRole).
function applyDeskRole() {
  for (const element of document.querySelectorAll("#re-enrol-form input, #re-enrol-form button")) {
    element.disabled = !isManager();
  }
  $("drawer-test").disabled = !isManager() || !drawerPrinterSet;
  $("drawer-on-top-up").disabled = !isManager() || !drawerPrinterSet;
  $("re-enrol-submit").title = isManager() ? "" : text.managerOnly;
  $("cashout-submit").disabled = !isManager();
  $("cashout-submit").title = isManager() ? "" : text.managerOnly;
  for (const button of document.querySelectorAll("#topups-list .reversal-open")) {
    button.disabled = !isManager();
  }
}

/// What main.js's showScreen asks of this file when a screen opens.
function deskScreenShown(/** @type {string} */ name) {
  if (name === "topup") refreshTopUps();
  if (name === "settings") {
    refreshDrawer();
    showEnrolment();
  }
}

function startDesk() {
  $("drawer-on-top-up").addEventListener("change", setDrawerOnTopUp);
  $("drawer-test").addEventListener("click", testDrawer);
  $("reversal-form").addEventListener("submit", askReversal);
  $("cashout-form").addEventListener("submit", payOut);
  $("cashout-print").addEventListener("click", printPayout);
  $("reversal-yes").addEventListener("click", reverseTopUp);
  $("reversal-no").addEventListener("click", () => { $("reversal-confirm").hidden = true; });
  $("reversal-close").addEventListener("click", closeReversal);
  $("re-enrol-form").addEventListener("submit", askReEnrol);
  $("re-enrol-yes").addEventListener("click", reEnrol);
  $("re-enrol-no").addEventListener("click", () => { $("re-enrol-confirm").hidden = true; });
}
