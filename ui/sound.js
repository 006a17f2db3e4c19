// Pay by sound at the counter: the Sale screen's "Play sound" plays the open order's payment
// token as a burst of tones (made offline by the app, `payment_sound`), again and again with
// a pause, until the order is paid, cancelled or expired, and stops at once when it is. The
// customer's wallet listens for it on its Listen page. Settings' checkbox plays every new
// payment code by itself. Loaded after main.js, whose helpers ($, call, text, errorText,
// isManager, openOrder) it uses once the window has started; main.js calls
// soundFollowsOrder, soundForNewOrder and stopPaymentSound.
"use strict";

/** @typedef {import("./types").SoundSettings} SoundSettings */
/** @typedef {import("./types").OrderView} OrderView */

const SOUND_TEXT = {
  en: {
    playSound: "Play sound (F8)", stopSound: "Stop sound (F8)",
    soundPlaying: "Playing: the customer listens with the wallet's Pay by sound",
    soundNoOutput: "This counter cannot play sound: show the QR code instead.",
    soundOnNewOrder: "Play the payment sound with every new payment code",
  },
  zh: {
    playSound: "播放声波 (F8)", stopSound: "停止声波 (F8)",
    soundPlaying: "播放中：顾客用钱包的“声波支付”收听",
    soundNoOutput: "本收银台无法播放声音：请改用二维码。",
    soundOnNewOrder: "每生成一个付款码即自动播放付款声波",
  },
};
Object.assign(TEXT.en, SOUND_TEXT.en);
Object.assign(TEXT.zh, SOUND_TEXT.zh);

/** Silence between two bursts: long enough for a phone that missed the start of one to be
 * ready for the next, short enough that the customer waits at most one burst more. */
const SOUND_PAUSE_MS = 1200;

/** @type {AudioContext | null} */
let soundContext = null;
/** The burst playing: its order, the sound, the play in progress and the next one's timer.
 * @type {{orderId: string, buffer: AudioBuffer, source: AudioBufferSourceNode | null, timer: number | null, plays: number} | null} */
let soundLoop = null;
/** Counts every start and stop: an answer to a request made before the latest of them is
 * stale (its order was stopped, or another was started) and is dropped, errors included. */
let soundGeneration = 0;
/** A start is on its way (the burst is being made): Stop cancels it. */
let soundStarting = false;

/** Samples of the app's WAV (its own 44-byte header: mono 16-bit PCM). */
function wavSamples(/** @type {ArrayBuffer} */ wav) {
  const view = new DataView(wav);
  const rate = view.getUint32(24, true);
  const count = Math.floor(Math.min(view.getUint32(40, true), wav.byteLength - 44) / 2);
  const samples = new Float32Array(count);
  for (let index = 0; index < count; index++) samples[index] = view.getInt16(44 + 2 * index, true) / 32768;
  return { rate, samples };
}

function showSound(/** @type {"playing" | "stopped" | "problem"} */ state, message) {
  const button = $("sale-sound");
  button.textContent = state === "playing" ? text.stopSound : text.playSound;
  button.setAttribute("aria-pressed", String(state === "playing"));
  const status = $("sale-sound-status");
  status.dataset.state = state;
  status.className = state === "problem" ? "problem" : "hint";
  status.textContent = message;
}

/// The customer display says the payment can be heard while it plays (main.js's
/// `shownToCustomer` and `display`).
function tellCustomerSound(/** @type {boolean} */ playing) {
  if (shownToCustomer && shownToCustomer.kind === "payment" && shownToCustomer.sound_playing !== playing) {
    display({ ...shownToCustomer, sound_playing: playing });
  }
}

function stillPayable(/** @type {string} */ orderId) {
  return openOrder && openOrder.order_id === orderId && openOrder.status === "created"
    && Date.now() < openOrder.expires_at_ms;
}

/// The button: stops what plays or is starting, else starts.
function togglePaymentSound() {
  if (soundLoop || soundStarting) stopPaymentSound();
  else startPaymentSound();
}

/// Plays the open order's burst on repeat; does nothing when it already plays.
async function startPaymentSound() {
  if (soundLoop || soundStarting || !openOrder || openOrder.status !== "created") return;
  const orderId = openOrder.order_id;
  const generation = ++soundGeneration;
  const current = () => generation === soundGeneration && stillPayable(orderId);
  soundStarting = true;
  try {
    // Made and resumed before the first await, while the click still counts as a gesture.
    if (!soundContext) soundContext = new AudioContext();
    const resumed = soundContext.state === "suspended" ? soundContext.resume() : Promise.resolve();
    const wav = await call("payment_sound", { orderId });
    await resumed;
    if (!current()) return;
    const { rate, samples } = wavSamples(wav instanceof ArrayBuffer ? wav : new Uint8Array(wav).buffer);
    const buffer = soundContext.createBuffer(1, samples.length, rate);
    buffer.copyToChannel(samples, 0);
    soundLoop = { orderId, buffer, source: null, timer: null, plays: 0 };
    playBurst();
  } catch (error) {
    if (generation === soundGeneration) showSound("problem", error && error.code ? errorText(error) : text.soundNoOutput);
  } finally {
    if (generation === soundGeneration) soundStarting = false;
  }
}

/// One burst, and the next after it and a pause: timed by the clock rather than the end of
/// the play, so a sound device that stalls cannot stop the repeats.
function playBurst() {
  const loop = soundLoop;
  if (!loop || !soundContext) return;
  if (!stillPayable(loop.orderId)) {
    stopPaymentSound();
    return;
  }
  // A device that stalled may still hold the last burst: never two at once (they garble).
  if (loop.source) stopSource(loop.source);
  const source = soundContext.createBufferSource();
  source.buffer = loop.buffer;
  source.connect(soundContext.destination);
  source.start();
  loop.source = source;
  loop.plays += 1;
  loop.timer = setTimeout(playBurst, loop.buffer.duration * 1000 + SOUND_PAUSE_MS);
  showSound("playing", text.soundPlaying);
  $("sale-sound-status").dataset.plays = String(loop.plays);
  tellCustomerSound(true);
}

function stopSource(/** @type {AudioBufferSourceNode} */ source) {
  try {
    source.stop();
  } catch (error) {
    // Already ended.
  }
}

function stopPaymentSound() {
  soundGeneration += 1;
  soundStarting = false;
  const loop = soundLoop;
  soundLoop = null;
  if (loop) {
    if (loop.timer) clearTimeout(loop.timer);
    if (loop.source) stopSource(loop.source);
  }
  showSound("stopped", "");
  tellCustomerSound(false);
}

/// main.js's showOrder: the button shows while the order can be paid; the sound stops the
/// moment it is paid, cancelled or expired, or another order is shown.
function soundFollowsOrder(/** @type {OrderView} */ order) {
  $("sale-sound").hidden = order.status !== "created";
  if ((soundLoop || soundStarting) && (order.status !== "created" || (soundLoop && soundLoop.orderId !== order.order_id))) {
    stopPaymentSound();
  }
}

/// main.js's createOrder: the new code plays by itself when Settings says so.
async function soundForNewOrder(/** @type {OrderView} */ order) {
  stopPaymentSound();
  try {
    /** @type {SoundSettings} */
    const settings = await call("sound_settings");
    if (settings.play_on_new_order && openOrder && openOrder.order_id === order.order_id) await startPaymentSound();
  } catch (error) {
    showSound("problem", errorText(error));
  }
}

async function refreshSoundSettings() {
  try {
    /** @type {SoundSettings} */
    const settings = await call("sound_settings");
    $("sound-on-new-order").checked = settings.play_on_new_order;
  } catch (error) {
    setStatus("sound-result", "rejected", errorText(error));
  }
  $("sound-on-new-order").disabled = !isManager();
  $("sound-on-new-order").title = isManager() ? "" : text.managerOnly;
}

async function setSoundOnNewOrder(event) {
  try {
    await call("set_sound_on_new_order", { play: event.target.checked });
    setStatus("sound-result", "confirmed", text.saved);
  } catch (error) {
    event.target.checked = !event.target.checked;
    setStatus("sound-result", "rejected", errorText(error));
  }
}

/// What main.js's showScreen asks of this file: the sound plays only on the Sale screen
/// (also after a sign-out); Settings shows the checkbox as stored.
function soundScreenShown(/** @type {string} */ name) {
  if (name !== "sale") stopPaymentSound();
  if (name === "settings") refreshSoundSettings();
}

/// F8 on the Sale screen plays or stops the open order's sound, as the button does.
function soundShortcut(/** @type {KeyboardEvent} */ event) {
  if (event.key !== "F8") return;
  event.preventDefault();
  if (currentScreen() === "sale" && openOrder && openOrder.status === "created") togglePaymentSound();
}

function startSound() {
  // main.js translated the page before this file added its words.
  applyStaticText();
  $("sale-sound").addEventListener("click", togglePaymentSound);
  document.addEventListener("keydown", soundShortcut);
  $("sound-on-new-order").addEventListener("change", setSoundOnNewOrder);
}

startSound();
