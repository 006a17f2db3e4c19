// The cash drawer on the Day screen: the opening float, cash drops to the bank, and the
// blind count before the close. Loaded after main.js, whose helpers it uses (`call`,
// `text`, `$`, `money`, `showError`, `setStatus`, `isManager`, `time`). The expected cash
// is never shown before the count: the Rust side says when a count is needed
// (`count_needed`), and the chart and Z-report stay hidden until then.
"use strict";

/** @typedef {import("./types").DrawerDay} DrawerDay */
/** @typedef {import("./types").CashCount} CashCount */

/// Notes and coins of the yuan in fen, as `tillfund_core::cash_count::CNY_DENOMINATIONS`.
const DENOMINATIONS = [10000, 5000, 2000, 1000, 500, 100, 50, 10];

const DRAWER_TEXT = {
  en: {
    drawerHeading: "Cash drawer", openingFloat: "Opening float", setFloat: "Set",
    cashDrop: "Cash taken to the bank", recordDrop: "Record drop",
    drawerTodayOnly: "The float and cash drops are recorded for today only.",
    countTitle: "Count the drawer",
    countHint: "Count what the drawer holds before you see what it should hold: the figures appear after the count.",
    countAsTotal: "Count as one total", noteOrCoin: "Note or coin", pieces: "Pieces", subtotal: "Subtotal",
    countedTotal: "Counted total", countNote: "Note (needed when over or short by more than 10.00)",
    recordCount: "Record the count", expectedInDrawer: "Expected in drawer", counted: "Counted",
    overShort: "Over/short", countedBy: "Counted by", over: "over", short: "short", even: "even",
    floatSet: "Float set", dropRecorded: "Drop recorded", countRecorded: "Count recorded",
    countFirst: "Count the drawer first: the day's figures appear after the blind count.",
    droppedBy: "by", noFloat: "No float set", piecesOf: "pieces of",
  },
  zh: {
    drawerHeading: "钱箱", openingFloat: "备用金", setFloat: "设定",
    cashDrop: "解款（现金存入银行）", recordDrop: "记录解款",
    drawerTodayOnly: "备用金和解款只能记录在今天。",
    countTitle: "钱箱点数",
    countHint: "先清点钱箱中的现金，点数后才显示应有金额（盲点）。",
    countAsTotal: "按总额点数", noteOrCoin: "面额", pieces: "张/枚", subtotal: "小计",
    countedTotal: "实点合计", countNote: "说明（长短款超过 10.00 时必填）",
    recordCount: "记录点数", expectedInDrawer: "钱箱应有", counted: "实点",
    overShort: "长短款", countedBy: "点数人", over: "长款", short: "短款", even: "无长短款",
    floatSet: "备用金已设定", dropRecorded: "解款已记录", countRecorded: "点数已记录",
    countFirst: "请先清点钱箱：点数后显示当日数据。",
    droppedBy: "经手", noFloat: "未设定备用金", piecesOf: "张/枚",
  },
};
Object.assign(TEXT.en, DRAWER_TEXT.en);
Object.assign(TEXT.zh, DRAWER_TEXT.zh);

function denominationLabel(value) {
  return value >= 100 ? `¥${value / 100}` : (language === "zh" ? `${value / 10} 角` : `¥${money(value)}`);
}

function buildCountRows() {
  const rows = DENOMINATIONS.map((value) => {
    const row = document.createElement("tr");
    const label = document.createElement("th");
    label.scope = "row";
    label.textContent = denominationLabel(value);
    const cell = document.createElement("td");
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.max = "100000";
    input.step = "1";
    input.inputMode = "numeric";
    input.dataset.value = String(value);
    input.setAttribute("aria-label", `${text.pieces} ${denominationLabel(value)}`);
    cell.append(input);
    const subtotal = document.createElement("td");
    subtotal.className = "amount";
    subtotal.textContent = "0.00";
    row.append(label, cell, subtotal);
    return row;
  });
  $("count-rows").replaceChildren(...rows);
}

function countedPieces() {
  return [...document.querySelectorAll("#count-rows input")].map((input) => ({
    value: Number(input.dataset.value),
    pieces: Math.max(0, Math.floor(Number(input.value) || 0)),
  }));
}

function refreshCountSum() {
  let total = 0;
  for (const input of document.querySelectorAll("#count-rows input")) {
    const pieces = Math.max(0, Math.floor(Number(input.value) || 0));
    const value = Number(input.dataset.value);
    total += pieces * value;
    input.closest("tr").lastElementChild.textContent = money(pieces * value);
  }
  $("count-sum").textContent = money(total);
}

function countAsTotal() {
  const asTotal = $("count-as-total").checked;
  $("count-denominations").hidden = asTotal;
  $("count-total-label").hidden = !asTotal;
  $("count-sum").parentElement.hidden = asTotal;
}

function selectedDay() {
  return $("settlement-day").value;
}

function isToday() {
  return selectedDay() === todayText();
}

/// The drawer of the selected day; `countNeeded` from the day's report.
async function showDrawer(countNeeded, closed) {
  showError("drawer-error", null);
  const editable = isToday() && countNeeded && !closed;
  $("float-form").hidden = !editable;
  $("drop-form").hidden = !editable;
  $("drawer-today-only").hidden = isToday() || !countNeeded || closed;
  $("count-form").hidden = !countNeeded || closed;
  $("count-submit").disabled = !isManager();
  $("count-submit").title = isManager() ? "" : text.managerOnly;
  $("drop-form").querySelector("button").disabled = !isManager();
  $("drop-form").querySelector("button").title = isManager() ? "" : text.managerOnly;
  try {
    showDrawerDay(await call("drawer_day", { day: selectedDay() }));
  } catch (error) {
    showError("drawer-error", error);
  }
}

function showDrawerDay(/** @type {DrawerDay} */ drawer) {
  $("float-amount").value = drawer.opening_float === null ? "" : money(drawer.opening_float);
  $("float-amount").placeholder = drawer.opening_float === null ? text.noFloat : "";
  const items = drawer.drops.map((drop) => {
    const item = document.createElement("li");
    item.textContent = `${time(drop.dropped_at_ms)} · ${withCurrency(drop.amount)} · ${text.droppedBy} ${drop.dropped_by}`;
    return item;
  });
  $("drop-list").replaceChildren(...items);
  showCount(drawer.count);
}

function showCount(/** @type {CashCount | null} */ count) {
  $("count-result").hidden = !count;
  if (!count) return;
  $("count-expected").textContent = withCurrency(count.expected);
  $("count-counted").textContent = withCurrency(count.counted);
  const direction = count.over_short > 0 ? text.over : count.over_short < 0 ? text.short : text.even;
  $("count-over-short").textContent = `${withCurrency(Math.abs(count.over_short))} ${direction}`;
  $("count-over-short").dataset.status = count.over_short === 0 ? "confirmed" : "rejected";
  $("count-by").textContent = `${count.counted_by} ${time(count.counted_at_ms)}${count.note ? ` · ${count.note}` : ""}`;
}

async function setFloat(event) {
  event.preventDefault();
  showError("drawer-error", null);
  try {
    showDrawerDay(await call("set_opening_float", { amount: $("float-amount").value }));
    setStatus("drawer-result", "confirmed", text.floatSet);
  } catch (error) {
    showError("drawer-error", error);
  }
}

async function recordDrop(event) {
  event.preventDefault();
  showError("drawer-error", null);
  try {
    showDrawerDay(await call("record_cash_drop", { amount: $("drop-amount").value }));
    $("drop-amount").value = "";
    setStatus("drawer-result", "confirmed", text.dropRecorded);
  } catch (error) {
    showError("drawer-error", error);
  }
}

async function recordCount(event) {
  event.preventDefault();
  showError("drawer-error", null);
  const counted = $("count-as-total").checked
    ? { by: "total", amount: $("count-total").value }
    : { by: "denominations", pieces: countedPieces().filter((piece) => piece.pieces > 0) };
  $("count-submit").disabled = true;
  try {
    const view = await call("count_cash", {
      day: selectedDay(), counted, note: $("count-note").value || null, language,
    });
    setStatus("drawer-result", "confirmed", text.countRecorded);
    showDayReport(view);
  } catch (error) {
    showError("drawer-error", error);
  } finally {
    $("count-submit").disabled = !isManager();
  }
}

function startDrawer() {
  buildCountRows();
  applyStaticText();
  $("count-rows").addEventListener("input", refreshCountSum);
  $("count-as-total").addEventListener("change", countAsTotal);
  $("float-form").addEventListener("submit", setFloat);
  $("drop-form").addEventListener("submit", recordDrop);
  $("count-form").addEventListener("submit", recordCount);
  countAsTotal();
}

startDrawer();
