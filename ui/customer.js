// The customer-facing window: shows what the cashier's window sends, nothing else. It
// starts from the latest state (it may open mid-sale) and follows the changes.
"use strict";

/** @typedef {import("./types").CustomerDisplay} CustomerDisplay */

const CUSTOMER_DISPLAY_CHANGED = "customer-display-changed";
const TEXT = {
  en: {
    welcome: "Welcome", welcomeHint: "Pay with your Tillfund wallet, or top it up with cash here.",
    scanToPay: "Scan to pay", thankYou: "Paid — thank you", payBefore: "Pay before", bonus: "Bonus",
    listenToPay: "Or listen: open Pay by sound in your wallet and hold the phone near the counter.",
  },
  zh: {
    welcome: "欢迎光临", welcomeHint: "可用 Tillfund 钱包付款，也可在此用现金充值。",
    scanToPay: "扫码付款", thankYou: "付款成功，谢谢", payBefore: "请在此时间前付款", bonus: "赠送",
    listenToPay: "或用声波付款：在钱包中打开“声波支付”，将手机靠近收银台。",
  },
};
const chosen = localStorage.getItem("language") || "auto";
const language = chosen === "auto"
  ? ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en") : chosen;
const text = TEXT[language];
const $ = (id) => document.getElementById(id);

function show(/** @type {CustomerDisplay} */ state) {
  for (const view of document.querySelectorAll(".view")) {
    view.hidden = view.id !== `view-${state.kind.replace("_", "-")}`;
  }
  if (state.kind === "payment") {
    $("payment-amount").textContent = state.amount;
    $("payment-qr").src = state.qr_png;
    const until = new Date(state.expires_at_ms).toLocaleTimeString(language === "zh" ? "zh-CN" : "en-GB");
    $("payment-expires").textContent = `${text.payBefore} ${until}`;
    $("payment-sound").hidden = !state.sound_playing;
  } else if (state.kind === "paid") {
    $("paid-amount").textContent = state.amount;
  } else if (state.kind === "top_up") {
    $("top-up-name").textContent = state.customer_name;
    $("top-up-amount").textContent = state.amount;
    $("top-up-bonus").textContent = `${text.bonus} ${state.bonus}`;
  }
}

async function start() {
  document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-text]")) {
    element.textContent = text[element.dataset.text] || element.textContent;
  }
  const tauri = window.__TAURI__;
  await tauri.event.listen(CUSTOMER_DISPLAY_CHANGED, (event) => show(event.payload));
  show(await tauri.core.invoke("customer_display"));
}

start();
