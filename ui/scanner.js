// Tells a keyboard-wedge barcode scanner from a person typing. A scanner "types" the
// whole code in a burst, a few milliseconds per key, and ends with Enter; nobody types
// eight or more digits at under 35 ms a key. The detector looks only at key timing.
"use strict";

/// Keys closer together than this belong to one burst.
const SCAN_KEY_GAP_MS = 35;
/// The scanner's Enter follows its last digit within this.
const SCAN_ENTER_GAP_MS = 100;
/// The shortest burst that counts as a scan (a member code is 12 digits).
const SCAN_MIN_LENGTH = 8;

class ScanDetector {
  constructor() {
    this.burst = "";
    this.lastAt = -Infinity;
  }

  /// Feeds one keydown; returns the scanned text when Enter ends a fast burst, else null.
  feed(key, atMs) {
    const gap = atMs - this.lastAt;
    if (key === "Enter") {
      const scanned = this.burst.length >= SCAN_MIN_LENGTH && gap <= SCAN_ENTER_GAP_MS ? this.burst : null;
      this.burst = "";
      this.lastAt = -Infinity;
      return scanned;
    }
    if (key.length !== 1) return null;
    // Member codes are digits: anything else (an address, a name) is not a scan.
    if (!/^[0-9]$/.test(key)) {
      this.burst = "";
      this.lastAt = -Infinity;
      return null;
    }
    // A slow key starts a new burst: typed text never adds up to a scan.
    this.burst = gap <= SCAN_KEY_GAP_MS ? (this.burst + key).slice(-64) : key;
    this.lastAt = atMs;
    return null;
  }
}

globalThis.ScanDetector = ScanDetector;
