// Final delivery into a Maildir puts `Return-Path: <reverse-path>` on top (RFC 5321 4.4), `<>` for the null
// sender; the message below it is the stored bytes exactly, and a repeated delivery still writes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { deliverToMaildir } from '../src/relay/index.ts';

const content = Buffer.from('Received: from a by b; Mon, 1 Jan 2026 00:00:00 +0000\r\nSubject: rp\r\n\r\nbody\r\n');

test('Return-Path with the sender, and <> for the null sender, above the unchanged message', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-rp-'));
  try {
    const a = readFileSync(deliverToMaildir(path.join(dir, 'M'), content, Date.now(), 'ID1-0', 'eljefe@example.com'));
    assert.equal(a.toString('latin1'), 'Return-Path: <eljefe@example.com>\r\n' + content.toString('latin1'));
    const b = readFileSync(deliverToMaildir(path.join(dir, 'M'), content, Date.now(), 'ID2-0', ''));
    assert.equal(b.toString('latin1'), 'Return-Path: <>\r\n' + content.toString('latin1'));
    const c = readFileSync(deliverToMaildir(path.join(dir, 'M'), content, Date.now(), 'ID3-0', 'jörg@bücher.example'));
    assert.equal(c.toString('utf8'), 'Return-Path: <jörg@bücher.example>\r\n' + content.toString('latin1'));
    // exactly once: the second delivery of ID1-0 finds the first
    assert.equal(deliverToMaildir(path.join(dir, 'M'), content, Date.now() + 5000, 'ID1-0', 'eljefe@example.com'), deliverToMaildir(path.join(dir, 'M'), content, Date.now(), 'ID1-0', 'eljefe@example.com'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
