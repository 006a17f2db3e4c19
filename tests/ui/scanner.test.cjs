// The scanner detector on its own, under Node's test runner (`make unit`).
"use strict";
const test = require("node:test");
const assert = require("node:assert");
require("../../ui/scanner.js");

function feed(detector, keys, gapMs, start = 1000) {
  let at = start;
  let result = null;
  for (const key of keys) {
    result = detector.feed(key, at);
    at += gapMs;
  }
  return result;
}

test("a burst of digits ending in Enter is a scan", () => {
  const detector = new globalThis.ScanDetector();
  assert.strictEqual(feed(detector, [..."123456789012", "Enter"], 4), "123456789012");
});

test("the same digits typed by a person are not", () => {
  const detector = new globalThis.ScanDetector();
  assert.strictEqual(feed(detector, [..."123456789012", "Enter"], 90), null);
});

test("a short burst, a late Enter, or letters are not a scan", () => {
  const detector = new globalThis.ScanDetector();
  assert.strictEqual(feed(detector, [..."1234567", "Enter"], 4), null);
  assert.strictEqual(feed(detector, [..."123456789012"], 4), null);
  assert.strictEqual(detector.feed("Enter", 1000 + 12 * 4 + 500), null);
  assert.strictEqual(feed(detector, [..."device:/dev/usb/lp0", "Enter"], 4), null);
});

test("typing before a scan does not spoil it", () => {
  const detector = new globalThis.ScanDetector();
  feed(detector, [..."99"], 200);
  assert.strictEqual(feed(detector, [..."123456789012", "Enter"], 3, 5000), "123456789012");
});
