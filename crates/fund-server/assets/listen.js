// The Listen page (pay by sound): hears a counter's payment burst through the microphone and
// opens the pay page for the token it carried, as a scanned QR code does. The decoder is
// ggwave compiled to WebAssembly (listen-decoder.wasm, built by crates/payment-sound/wasm);
// this file only moves samples into it. Its words come from the page's data attributes.
// The server checks the token's signature on the pay page: nothing heard here is trusted.
"use strict";

(() => {
  /** Samples handed to the decoder at a time: ggwave hears nothing in smaller chunks at
   * rates other than 48 kHz. */
  const CHUNK_SAMPLES = 4096;
  /** A counter repeats its burst (about 3 s) with short pauses: four or five chances. */
  const LISTEN_FOR_MS = 20000;
  /** Room for what the decoder hears: ggwave's payloads stop at 140 bytes; a payment token
   * is 84. */
  const PAYLOAD_BYTES_MAX = 256;
  /** The rate the counter's burst is made at: asked of the AudioContext so that the browser,
   * not ggwave, resamples the microphone (phones often run at 44.1 kHz). */
  const SAMPLE_RATE = 48000;

  const page = document.getElementById("listen");
  const start = document.getElementById("listen-start");
  const status = document.getElementById("listen-status");

  /** Shows one of the page's messages; `problem` ones are read out at once. */
  function say(key, problem) {
    status.textContent = page.dataset[key] || "";
    status.className = problem ? "problem" : "hint";
    status.setAttribute("role", problem ? "alert" : "status");
    status.dataset.state = key;
  }

  function base64url(bytes) {
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** The decoder for samples at `sampleRate`: feed() answers the payload heard (bytes), 0
   * while listening, or a negative number for a burst that failed its error correction. */
  async function openDecoder(sampleRate) {
    const response = await fetch("/assets/listen-decoder.wasm");
    if (!response.ok) throw new Error(`decoder: HTTP ${response.status}`);
    // Built without logging, the module never writes; its three WASI imports answer ENOSYS.
    const unused = () => 52;
    const imports = { wasi_snapshot_preview1: { fd_write: unused, fd_seek: unused, fd_close: unused } };
    const { instance } = await WebAssembly.instantiate(await response.arrayBuffer(), imports);
    const decoder = instance.exports;
    decoder._initialize();
    const id = decoder.listen_init(sampleRate);
    if (id < 0) throw new Error("decoder: no receiver");
    const samples = decoder.listen_alloc(CHUNK_SAMPLES * 4);
    const payload = decoder.listen_alloc(PAYLOAD_BYTES_MAX);
    return {
      feed(chunk) {
        // Views are made afresh: the module's memory may have grown since the last chunk.
        new Float32Array(decoder.memory.buffer, samples, chunk.length).set(chunk);
        const length = decoder.listen_decode(id, samples, chunk.length, payload, PAYLOAD_BYTES_MAX);
        return length > 0 ? new Uint8Array(decoder.memory.buffer, payload, length).slice() : length;
      },
      close() {
        decoder.listen_free(id);
      },
    };
  }

  /** The page's audio, made and resumed inside the press (browsers let audio start only
   * from a person's gesture, and the gesture is spent once a promise has been awaited). */
  function openContext() {
    let context;
    try {
      context = new AudioContext({ sampleRate: SAMPLE_RATE });
    } catch (error) {
      // Older browsers take no rate: ggwave resamples from the device's.
      context = new AudioContext();
    }
    const resumed = context.state === "suspended" ? context.resume() : Promise.resolve();
    return { context, resumed };
  }

  async function listen() {
    start.disabled = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.AudioContext) {
      // Phones allow the microphone only over HTTPS.
      say("noMicrophone", true);
      start.disabled = false;
      return;
    }
    let opened;
    try {
      opened = openContext();
    } catch (error) {
      say("broken", true);
      start.disabled = false;
      return;
    }
    const context = opened.context;
    say("asking", false);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (error) {
      context.close();
      say(error && (error.name === "NotAllowedError" || error.name === "SecurityError") ? "refused" : "noMicrophone", true);
      start.disabled = false;
      return;
    }
    let decoder;
    try {
      await opened.resumed;
      decoder = await openDecoder(context.sampleRate);
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      context.close();
      say("broken", true);
      start.disabled = false;
      return;
    }
    const source = context.createMediaStreamSource(stream);
    // ScriptProcessor rather than an AudioWorklet: it runs on every phone browser, and the
    // decoder needs the main thread's WebAssembly instance anyway.
    const processor = context.createScriptProcessor(CHUNK_SAMPLES, 1, 1);
    // The processor only runs when connected onwards; through silence, never to the speaker.
    const silence = context.createGain();
    silence.gain.value = 0;
    source.connect(processor);
    processor.connect(silence);
    silence.connect(context.destination);
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      processor.onaudioprocess = null;
      source.disconnect();
      processor.disconnect();
      for (const track of stream.getTracks()) track.stop();
      context.close();
      decoder.close();
    };
    const timer = setTimeout(() => {
      finish();
      say("nothing", true);
      start.textContent = page.dataset.again;
      start.disabled = false;
    }, LISTEN_FOR_MS);
    processor.onaudioprocess = (event) => {
      if (done) return;
      const heard = decoder.feed(event.inputBuffer.getChannelData(0));
      if (heard instanceof Uint8Array) {
        finish();
        say("heard", false);
        location.assign(`/pay?via=sound&t=${base64url(heard)}`);
      } else if (heard < 0) {
        say("garbled", false);
      }
    };
    say("listening", false);
  }

  start.addEventListener("click", listen);
})();
