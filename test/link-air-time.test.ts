// The station's airtime model: key-up, frames queued behind each other, and the answer delay it learns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AirTime, MARGIN_MS } from '../src/link/air-time.ts';

const hf = { bitRate: 2400, bitsPerByte: 8, maxFrame: 1024, duplex: 'half', turnaroundMs: 1500 } as const;

test('a half-duplex over starts with the turnaround; frames follow each other on the air', () => {
  const air = new AirTime(hf);
  air.keyUp(10_000);
  assert.equal(air.freeAt, 11_500);
  air.wrote(10_000, 300); // 300 bytes at 300 B/s: one second, after the key-up
  assert.equal(air.freeAt, 12_500);
  assert.equal(air.leavesAirIn(10_000, 300), 3500);
  air.wrote(12_600, 30); // the air was free again: no queue to wait behind
  assert.equal(air.freeAt, 12_700);
  assert.equal(air.overMs(), 2700);
});

test('full duplex: no key-up cost', () => {
  const air = new AirTime({ ...hf, duplex: 'full', turnaroundMs: 0 });
  air.keyUp(5000);
  assert.equal(air.overStart, 5000);
  air.wrote(5000, 300);
  assert.equal(air.freeAt, 6000); // on the air at once
});

test('the answer wait starts from the profile and follows the measured delay', () => {
  const air = new AirTime(hf);
  const frame = (1024 + 40) * (8000 / 2400);
  assert.equal(Math.round(air.answerWaitMs(0)), Math.round(1500 + 100 + frame + MARGIN_MS));
  air.awaitAnswer(); // our over left the air at 0
  air.answerHeard(4000);
  assert.equal(air.answerDelayMs, 4000);
  assert.equal(Math.round(air.answerWaitMs(0)), Math.round(4000 + frame + MARGIN_MS));
  air.answerHeard(9000); // not awaited: not a sample
  assert.equal(air.answerDelayMs, 4000);
  air.awaitAnswer();
  air.answerHeard(2000);
  assert.equal(air.answerDelayMs, 0.75 * 4000 + 0.25 * 2000);
});
