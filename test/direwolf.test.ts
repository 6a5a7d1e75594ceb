// Two `hfmail start` stations over a real pair of Direwolf AFSK 1200 soft modems (test/support/direwolf.ts):
// KISS over TCP and over a serial pty (socat), clean, with receive bit errors (Direwolf -e), with FX.25 (-X 16)
// with and without errors, and a deadline that expires mid-transfer. Real time by nature: each scenario has its
// own Direwolf pair and they run at once (a pair takes a few % of a core). Skipped only without `direwolf`.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { direwolfMissing } from './support/direwolf.ts';
import { attachmentText, direwolfStations, message, type Arrival } from './support/direwolf-stations.ts';

const missing = direwolfMissing();

/** Short messages of MIXER priorities -4, 0, 4, each with a tag of this run. */
function shorts(tag: string) {
  return [-4, 0, 4].map((p) => ({ priority: p, subject: `dw-${tag}-p${p}`, raw: message(`dw-${tag}-p${p}`, `priority ${p} line\r\n`.repeat(20)) }));
}

/** Copies at bravo of the message with this subject, each checked byte for byte: the client's bytes end the file. */
function copies(arrivals: readonly Arrival[], m: { subject: string; raw: Buffer }): Arrival[] {
  const found = arrivals.filter((a) => a.bytes.includes(`Subject: ${m.subject}\r\n`));
  for (const a of found) assert.ok(a.bytes.subarray(a.bytes.length - m.raw.length).equals(m.raw), `${m.subject}: not byte-identical`);
  return found;
}

/** Waits for every message to arrive at bravo, then checks each arrived exactly once, byte-identical; returns arrivals in order. */
async function allOnce(t: TestContext, s: Awaited<ReturnType<typeof direwolfStations>>, sent: readonly { subject: string; raw: Buffer }[], timeoutMs: number): Promise<Arrival[]> {
  const ok = await s.waitFor(() => sent.every((m) => copies(s.arrivals('bravo'), m).length > 0), timeoutMs);
  const got = sent.map((m) => copies(s.arrivals('bravo'), m));
  assert.ok(ok, `arrived ${got.filter((c) => c.length).length}/${sent.length} within ${timeoutMs / 1000} s\n${s.log()}\n${s.modems.logs()}`);
  got.forEach((c, i) => assert.equal(c.length, 1, `${sent[i]!.subject} arrived ${c.length} times`));
  const link = s.status('alpha')?.links[0];
  t.diagnostic(`${t.name}: all ${sent.length} in ${(s.elapsed() / 1000).toFixed(0)} s; alpha sent ${link?.['records']} records, ${link?.['retransmissions']} again, frames of ${link?.['frameSize']} B`);
  return got.map((c) => c[0]!).sort((a, b) => a.at - b.at);
}

describe('two stations over a Direwolf AFSK 1200 pair', { skip: missing, concurrency: true }, () => {
  test('KISS over TCP: mixed priorities and a 20 KB message arrive byte-identical, in priority order', async (t) => {
    const s = await direwolfStations();
    try {
      const big = { priority: -4, subject: 'dw-tcp-big', raw: message('dw-tcp-big', attachmentText(20_000, 1)) };
      const small = shorts('tcp');
      const t0 = Date.now();
      // The 20 KB message takes the link; the short ones come while it is on the air and overtake it by priority.
      await s.send([big]);
      await s.send(small);
      const order = await allOnce(t, s, [big, ...small], 300_000);
      assert.deepEqual(
        order.map((a) => /Subject: (\S+)/.exec(a.bytes.toString('latin1'))![1]),
        ['dw-tcp-p4', 'dw-tcp-p0', 'dw-tcp-p-4', 'dw-tcp-big'],
      );
      t.diagnostic(`20 KB message (${big.raw.length} B) delivered ${((Date.now() - t0) / 1000).toFixed(0)} s after submission (npm run bench:direwolf measures the rate)`);
    } finally {
      await s.stop();
    }
  });

  test('a serial line (socat pty to the KISS TCP port): mixed priorities in order', async (t) => {
    const s = await direwolfStations({ alphaSerial: true });
    try {
      const filler = { priority: -4, subject: 'dw-serial-filler', raw: message('dw-serial-filler', attachmentText(2500, 2)) };
      const small = shorts('serial');
      await s.send([filler]);
      await s.send(small);
      const order = await allOnce(t, s, [filler, ...small], 240_000);
      assert.deepEqual(
        order.map((a) => /Subject: (\S+)/.exec(a.bytes.toString('latin1'))![1]),
        ['dw-serial-p4', 'dw-serial-p0', 'dw-serial-p-4', 'dw-serial-filler'],
      );
    } finally {
      await s.stop();
    }
  });

  test('receive bit errors (-e 1e-3 at bravo): every message exactly once', async (t) => {
    const s = await direwolfStations({ b: { receiveBer: 1e-3 } });
    try {
      const mid = { priority: 0, subject: 'dw-ber-4k', raw: message('dw-ber-4k', attachmentText(4000, 3)) };
      await s.send([mid, ...shorts('ber')]);
      await allOnce(t, s, [mid, ...shorts('ber')], 270_000);
      assert.ok(Number(s.status('alpha')?.links[0]?.['retransmissions']) > 0, 'no frame was sent again: were there errors at all?');
    } finally {
      await s.stop();
    }
  });

  test('FX.25 (-X 16 on both modems), clean: every message exactly once', async (t) => {
    const s = await direwolfStations({ a: { fx25: 16 }, b: { fx25: 16 }, profile: 'direwolf-afsk1200-fx25' });
    try {
      const mid = { priority: 0, subject: 'dw-fx-4k', raw: message('dw-fx-4k', attachmentText(4000, 4)) };
      await s.send([mid, ...shorts('fx')]);
      await allOnce(t, s, [mid, ...shorts('fx')], 240_000);
    } finally {
      await s.stop();
    }
  });

  test('FX.25 with receive bit errors (-X 16, -e 1e-3 at bravo): every message exactly once', async (t) => {
    const s = await direwolfStations({ a: { fx25: 16 }, b: { fx25: 16, receiveBer: 1e-3 }, profile: 'direwolf-afsk1200-fx25' });
    try {
      const mid = { priority: 0, subject: 'dw-fxber-4k', raw: message('dw-fxber-4k', attachmentText(4000, 5)) };
      await s.send([mid, ...shorts('fxber')]);
      await allOnce(t, s, [mid, ...shorts('fxber')], 240_000);
    } finally {
      await s.stop();
    }
  });

  test('a deadline that passes mid-transfer: CANCEL on the air, the sender gets the DSN, and the link carries the next message', async (t) => {
    const s = await direwolfStations();
    try {
      const doomed = { priority: 0, subject: 'dw-late-big', raw: message('dw-late-big', attachmentText(20_000, 6)) };
      await s.send([{ ...doomed, by: 40 }]);
      // The deadline passes while the message is on the air: alpha asks bravo (CANCEL) and bravo answers.
      // A link event as the gateway logs it: its type in `event` (or `type`, for the frame-level ones).
      const logged = (type: string) => s.events('alpha').some((e) => e['event'] === type || e['type'] === type);
      const cancelled = await s.waitFor(() => logged('expired'), 150_000);
      assert.ok(cancelled, `no answer to the CANCEL\n${s.log()}`);
      assert.ok(logged('cancel-asked'), 'the withdrawal did not go over the air');
      // The sender's DSN (op@field.example is delivered at alpha).
      assert.ok(await s.waitFor(() => s.arrivals('alpha').some((a) => a.bytes.includes('dw-late-big')), 30_000), 'no DSN for the withdrawn message');
      const after = { priority: 0, subject: 'dw-after-cancel', raw: message('dw-after-cancel', 'the link still works\r\n') };
      await s.send([after]);
      await allOnce(t, s, [after], 120_000);
      assert.equal(copies(s.arrivals('bravo'), doomed).length, 0, 'the withdrawn message was delivered too');
    } finally {
      await s.stop();
    }
  });
});
