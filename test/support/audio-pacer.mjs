#!/usr/bin/env node
// Real-time pacer for a soft modem's audio pipe: copies stdin to stdout at `rate` bytes per second (88200 for
// 16-bit mono at 44.1 kHz). A token bucket that never banks more than 50 ms of audio, so a transmission that
// follows a quiet spell goes at real time too (a rate limiter that makes up for idle time would send it in a
// burst, and the far modem would hear 1200 bd faster than 1200 bd). Reads in small pieces, so it holds at most
// 25 ms of audio of its own. Dependency-free: the ALSA `file` plugin starts it through a shell.
import { readSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const rate = Number(process.argv[2] ?? 88200);
const cap = rate * 0.05;
const piece = 2 * Math.round(rate / 80); // 25 ms, whole 16-bit samples
const buf = Buffer.alloc(piece);
const nap = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(nap, 0, 0, Math.max(1, ms));

let tokens = 0;
let last = performance.now();
for (;;) {
  let n;
  try {
    n = readSync(0, buf, 0, piece, null);
  } catch (err) {
    if (err.code === 'EAGAIN') {
      sleep(5);
      continue;
    }
    if (err.code === 'EOF') break;
    throw err;
  }
  if (n === 0) break;
  let i = 0;
  while (i < n) {
    const now = performance.now();
    tokens = Math.min(cap, tokens + ((now - last) / 1000) * rate);
    last = now;
    const k = Math.min(Math.floor(tokens), n - i) & ~1;
    if (k <= 0) {
      sleep(((Math.min(n - i, piece) - tokens) / rate) * 1000);
      continue;
    }
    try {
      writeSync(1, buf, i, k);
    } catch (err) {
      if (err.code === 'EAGAIN') {
        sleep(5);
        continue;
      }
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    }
    i += k;
    tokens -= k;
  }
}
