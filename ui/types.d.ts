// Generated from the Rust types by src-tauri/src/ui_types.rs; do not edit.
// Regenerate: UPDATE_UI_TYPES=1 cargo test -p tillfund-counter --lib ui_types

export type CommandError = { code: string, message: string, message_zh: string | null, };

export type ConnectionState = "checking" | "online" | "degraded" | "incompatible" | "offline";

export type ConnectionStatus = { server_url: string, state: ConnectionState, server_version: string | null, 
/**
 * What went wrong, in words a cashier can pass on; `None` when online.
 */
problem: string | null, 
/**
 * When the state last changed, in milliseconds since the Unix epoch.
 */
since_ms: number, };

export type ProfileView = { server_url: string, terminal_id: string, receipt_prefix: string, merchant_name: string, currency: string, 
/**
 * IANA zone of the store's business day: "today" is the store's today, not the
 * machine's (a counter whose clock is set to UTC closes the right day in Shanghai).
 */
time_zone: string, };

export type Role = "cashier" | "manager";

export type StaffMember = { staff_id: string, name: string, role: Role, active: boolean, 
/**
 * Set while the member is locked out after wrong PINs.
 */
locked_until_ms: number | null, };

export type StaffSession = { staff_id: string, name: string, role: Role, signed_in_at_ms: number, };

export type StaffState = { members: Array<StaffMember>, current: StaffSession | null, };

export type TopUpPreviewView = { customer_name: string, member_code: string, 
/**
 * Minor units.
 */
amount: number, bonus: number, rule_version: number, };

export type TopUpView = { entry_id: string, receipt_number: string, amount: number, bonus: number, 
/**
 * Always "pending" when recorded; the Sync screen follows it.
 */
status: string, 
/**
 * The cash drawer did not open (it opens on a cash top-up once a printer is set):
 * the top-up is recorded all the same; the cashier opens the drawer with its key.
 */
drawer_problem: CommandError | null, };

export type TopUpStatusView = { status: string, code: string | null, message: string | null, };

export type RecentTopUp = { entry_id: string, receipt_number: string, 
/**
 * From the customer cache; `None` once the customer left the cache (another store).
 */
customer_name: string | null, 
/**
 * Minor units.
 */
amount: number, bonus_shown: number, reversed: number, 
/**
 * "pending", "confirmed" or "rejected": only a confirmed top-up can be reversed.
 */
status: "pending" | "confirmed" | "rejected", 
/**
 * A reversal of it was sent and its answer has not arrived.
 */
reversal_unanswered: boolean, 
/**
 * Taken while this counter was enrolled at another store or fund server (or under an
 * enrolment it has no record of): it cannot be reversed from here. A top-up of an
 * earlier enrolment at the same store can (`Counter::reverse_top_up`).
 */
earlier_enrolment: boolean, recorded_at_ms: number, };

export type ReversalDone = { 
/**
 * Cash given back, minor units.
 */
amount: number, bonus_clawed_back: number, 
/**
 * What all reversals of this top-up have given back.
 */
reversed_total: number, wallet_balance: number, };

export type RedemptionDone = { customer_name: string, cash: number, principal: number, yield_paid: number, bonus_clawed_back: number, wallet_balance: number, 
/**
 * The customer closed the wallet with this payout: it is gone from every store.
 */
wallet_closed: boolean, 
/**
 * The server's journal entry: what the receipt is printed from.
 */
entry_sequence: number, };

export type RedemptionView = { done: RedemptionDone, 
/**
 * The cash drawer did not open: the payout is made all the same; the manager opens
 * the drawer with its key.
 */
drawer_problem: CommandError | null, };

export type DrawerSettings = { 
/**
 * The drawer hangs off the printer: without one there is nothing to open.
 */
printer_set: boolean, open_on_cash_top_up: boolean, };

export type SoundSettings = { 
/**
 * Every new payment code plays its sound at once, as if Play were pressed.
 */
play_on_new_order: boolean, };

export type ReEnrolmentView = { profile: ProfileView, previous_terminal_id: string, 
/**
 * The code was for another store: the customer list is the new store's from now on.
 */
store_changed: boolean, };

export type OrderView = { order_id: string, receipt_number: string, amount: number, pay_url: string, expires_at_ms: number, 
/**
 * "created", "paid", "cancelled" or "expired".
 */
status: string, 
/**
 * The QR code as a data URL, ready for an `<img>`.
 */
qr_png: string, 
/**
 * Once paid: the code the customer's wallet shows, for the cashier to compare.
 */
confirmation_code: string | null, };

export type OrderSummary = { order_id: string, receipt_number: string, 
/**
 * Minor units.
 */
amount: number, refunded: number, 
/**
 * "created", "paid", "cancelled" or "expired".
 */
status: "created" | "paid" | "cancelled" | "expired", created_at_ms: number, };

export type CustomerView = { display_name: string, phone: string, member_code: string, bound: boolean, };

export type NeedsAttentionItem = { sequence: number, code: string, message: string, };

export type SyncStatus = { pending: number, oldest_pending_ms: number | null, 
/**
 * When a round last finished with nothing left to push.
 */
last_synced_ms: number | null, needs_attention: Array<NeedsAttentionItem>, };

export type CounterFigures = { top_up_count: number, 
/**
 * Cash taken for top-ups (the drawer holds this less `reversed_cash`).
 */
cash: number, 
/**
 * Bonus shown to customers on those top-ups.
 */
bonus: number, payment_count: number, payments: number, refund_count: number, refunds: number, 
/**
 * Top-ups reversed in the day (by the server's clock) and the cash given back. Absent
 * from Z-reports kept before reversals were made at the counter.
 */
reversal_count: number, reversed_cash: number, 
/**
 * Wallets paid out in cash in the day (by the server's clock), and the cash.
 */
redemption_count: number, redeemed_cash: number, 
/**
 * Top-ups of the day still waiting for the server.
 */
unsynced: number, 
/**
 * Top-ups of the day the server refused (needs attention).
 */
rejected: number, };

export type HourTakings = { 
/**
 * The local time the hour starts, "09:00"; a day with a clock change has 23 or 25.
 */
starts: string, cash: number, payments: number, };

export type CashierShift = { 
/**
 * The name as it was when they did it; `None` for what was done with nobody signed
 * in (before staff were on record, or by a tool).
 */
name: string | null, top_up_count: number, 
/**
 * Cash taken for top-ups, and the bonus shown on them.
 */
cash: number, bonus: number, 
/**
 * Orders they made that were paid in the day.
 */
payment_count: number, payments: number, refund_count: number, refunds: number, reversal_count: number, reversed_cash: number, 
/**
 * Wallets they paid out in cash, and the cash.
 */
redemption_count: number, redeemed_cash: number, 
/**
 * Their first and last action of the day, by the counter's clock: the shift's span.
 */
first_at_ms: number, last_at_ms: number, };

export type SettlementFigures = { top_up_count: number, 
/**
 * Cash the store took for the platform.
 */
cash: number, 
/**
 * Bonus the platform gave on those top-ups (from the reserve, not the store).
 */
bonus: number, payment_count: number, payments: number, refund_count: number, refunds: number, reversal_count: number, 
/**
 * Cash given back for reversed top-ups.
 */
reversed_cash: number, 
/**
 * Bonus clawed back by those reversals. Absent from a counter's figures as stored
 * before it was sent.
 */
reversed_bonus: number, 
/**
 * Wallets paid out as cash at the counter (principal and yield), and the bonus clawed
 * back with them. Absent from figures of before redemptions.
 */
redemption_count: number, redeemed_cash: number, redeemed_bonus: number, };

export type DenominationCount = { 
/**
 * The value of one piece in minor units (fen): one of [`CNY_DENOMINATIONS`].
 */
value: number, pieces: number, };

export type CashCount = { 
/**
 * Cash put in the drawer to give change with, before the first sale.
 */
opening_float: number, 
/**
 * Cash taken for top-ups less cash given back for reversals, by the counter's records.
 */
drawer_cash: number, 
/**
 * Cash taken out to the bank during the day, and how many times.
 */
cash_dropped: number, cash_drop_count: number, 
/**
 * What the drawer should hold: float + drawer cash − dropped.
 */
expected: number, 
/**
 * What the manager counted.
 */
counted: number, 
/**
 * Counted − expected: positive, the drawer is over; negative, short.
 */
over_short: number, 
/**
 * The count by note and coin value; empty when the total was counted as one figure.
 */
denominations: Array<DenominationCount>, 
/**
 * Who counted: the staff member's name.
 */
counted_by: string, counted_at_ms: number, 
/**
 * Why the drawer is over or short; needed beyond [`NOTE_REQUIRED_ABOVE`].
 */
note: string | null, };

export type CashDrop = { amount: number, dropped_by: string, dropped_at_ms: number, };

export type DrawerDay = { day: string, 
/**
 * `None` before anyone set it (counted as zero).
 */
opening_float: number | null, float_set_by: string | null, drops: Array<CashDrop>, count: CashCount | null, };

export type SettlementBody = { day: string, closed: boolean, 
/**
 * Cash − reversed cash: what must be in the drawer.
 */
drawer_cash: number, 
/**
 * Payments − refunds − drawer cash: positive, the platform pays the store; negative, the
 * store pays the platform.
 */
net_owed_to_store: number, 
/**
 * Journal entry of the close, when it moved money. (Absent from the days a counter
 * kept before it was shown.)
 */
entry_sequence: number | null, 
/**
 * The part of these figures made at the asking counter. A close settles everything
 * not settled before the day's end, so this also holds earlier days nobody closed.
 */
this_terminal: SettlementFigures, 
/**
 * The asking counter's entries recorded within the day (by the store's clock),
 * whichever close settles them: what its own records of the day must add up to.
 * Absent from servers and kept days from before it was sent.
 */
this_terminal_in_day: SettlementFigures | null, 
/**
 * The asking counter's drawer count for the day, as the server keeps it. Absent
 * before the counter counted, and from servers that do not keep counts.
 */
this_terminal_count: CashCount | null, top_up_count: number, 
/**
 * Cash the store took for the platform.
 */
cash: number, 
/**
 * Bonus the platform gave on those top-ups (from the reserve, not the store).
 */
bonus: number, payment_count: number, payments: number, refund_count: number, refunds: number, reversal_count: number, 
/**
 * Cash given back for reversed top-ups.
 */
reversed_cash: number, 
/**
 * Bonus clawed back by those reversals. Absent from a counter's figures as stored
 * before it was sent.
 */
reversed_bonus: number, 
/**
 * Wallets paid out as cash at the counter (principal and yield), and the bonus clawed
 * back with them. Absent from figures of before redemptions.
 */
redemption_count: number, redeemed_cash: number, redeemed_bonus: number, };

export type DayReport = { day: string, store: string, currency: string, counter: CounterFigures, 
/**
 * `None` when the server could not be reached.
 */
server: SettlementBody | null, 
/**
 * Whether this counter's records equal the server's figures for this counter.
 */
matches: boolean | null, closed: boolean, 
/**
 * Takings hour by hour (local clock), for the manager's chart. Absent in reports
 * closed before it existed.
 */
hours: Array<HourTakings>, 
/**
 * The drawer's blind count, once made (absent before, and from reports kept before
 * counts were made).
 */
cash_count: CashCount | null, 
/**
 * The manager who closed the day, once closed.
 */
closed_by: string | null, 
/**
 * The day per cashier (the shift report), busiest first.
 */
cashiers: Array<CashierShift>, };

export type DayReportView = { report: DayReport, z_report: string, csv: string, 
/**
 * The day is open and its drawer not counted yet: the screen asks for the blind count
 * and shows neither the Z-report nor the chart (they give the expected cash away).
 */
count_needed: boolean, };

export type CustomerDisplay = { "kind": "welcome" } | { "kind": "payment", amount: string, qr_png: string, expires_at_ms: number, sound_playing: boolean, } | { "kind": "paid", amount: string, } | { "kind": "top_up", customer_name: string, amount: string, bonus: string, };

export type OrderPaid = { order_id: string | null, };
