// The SMTP front end driven over a real socket with our line client: every reply code and enhanced code
// the spec and decisions.md name, and what the queue holds afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawSmtp } from './support/smtp-client.ts';
import { startGateway, type TestGateway } from './support/gateway.ts';

const MSG = 'From: a@example.com\r\nTo: b@example.net\r\nSubject: t\r\n\r\nhello\r\n';

describe('EHLO and parameters', () => {
  let gw: TestGateway;
  let c: RawSmtp;
  before(async () => {
    gw = await startGateway({ priority: { policy: 'STANAG4406' }, deliverBy: { min: 60 } });
    c = await RawSmtp.connect(gw.port);
  });
  after(async () => {
    await c.quit();
    await gw.stop();
  });

  test('EHLO advertises the extensions with their arguments', async () => {
    const lines = (await c.ehlo()).split('\r\n').map((l) => l.slice(4));
    for (const kw of ['PIPELINING', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'DSN', 'SIZE 10485760', 'DELIVERBY 60', 'MT-PRIORITY STANAG4406', 'PRIORITY', 'ALTRECIP'])
      assert.ok(lines.includes(kw), `EHLO lacks "${kw}": ${lines.join(' | ')}`);
    assert.ok(!lines.some((l) => l.startsWith('AUTH')), 'AUTH is advertised only when users are configured');
    assert.ok(!lines.includes('STARTTLS'), 'STARTTLS is advertised only when TLS is configured');
  });

  const cases: [string, string][] = [
    ['MAIL FROM:<a@example.com> MT-PRIORITY=+3', '501 5.5.2'],
    ['MAIL FROM:<a@example.com> MT-PRIORITY=10', '501 5.5.2'],
    ['MAIL FROM:<a@example.com> MT-PRIORITY=3 MT-PRIORITY=3', '501 5.5.2'],
    ['MAIL FROM:<a@example.com> ENVID=a ENVID=b', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> PRIORITY=+15', '250 2.3.6 2 '],
    ['MAIL FROM:<a@example.com> PRIORITY=+85', '250 2.3.6 9 '],
    [`MAIL FROM:<${'l'.repeat(64)}@${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(59)}.example>`, '250 2.1.0'],
    ['MAIL FROM:<a@example.com> MT-PRIORITY=3 PRIORITY=40', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> PRIORITY=100', '501 5.5.2'],
    ['MAIL FROM:<a@example.com> BY=0;R', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> BY=30;R', '555 5.5.4'],
    ['MAIL FROM:<a@example.com> BY=120', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> BY=-600;NT', '250 2.1.0'],
    ['MAIL FROM:<a@example.com> BY=120;R ABY=120;R', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> X-UNKNOWN=1', '555 5.5.4'],
    ['MAIL FROM:<a@example.com> ENVID=A+2b', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> RET=BOGUS', '501 5.5.4'],
    ['MAIL FROM:<a@example.com> SIZE=99999999999', '552 5.3.4'],
    ['MAIL FROM:<a@example.com> MT-PRIORITY=-4', '250 2.1.0'],
    ['MAIL FROM:<a@example.com> MT-PRIORITY=-9', '250 2.3.6 -9 '], // lowering is allowed; -9 is handled at level -4
    ['MAIL FROM:<a@example.com> MT-PRIORITY=2', '250 2.1.0'],
    ['MAIL FROM:<a@example.com> MT-PRIORITY=3', '250 2.3.6 3 '], // STANAG4406 has no level 3: handled as 4
    ['MAIL FROM:<a@example.com> PRIORITY=40', '250 2.3.6 4 '],
    ['MAIL FROM:<jörg@example.com>', '550 5.6.7'],
    ['MAIL FROM:<jörg@example.com> SMTPUTF8', '250 2.1.0'],
    ['MAIL FROM:a@example.com', '501 5.1.7'],
    ['MAIL FROM:<>', '250 2.1.0'],
  ];
  for (const [line, want] of cases) {
    test(`${line} -> ${want}`, async () => {
      await c.cmd('RSET');
      const r = await c.cmd(line);
      assert.ok(r.startsWith(want), `got "${r}"`);
    });
  }

  test('RCPT parameters', async () => {
    await c.cmd('RSET');
    assert.match(await c.cmd('MAIL FROM:<a@example.com>'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net> ARCPT=rfc822;not-an-address'), /^501 5\.5\.4 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net> NOTIFY=NEVER,SUCCESS'), /^501 5\.5\.4 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net> FOO=bar'), /^555 5\.5\.4 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net> NOTIFY=DELAY NOTIFY=DELAY'), /^501 5\.5\.4 /);
    assert.match(await c.cmd('RCPT TO:<dörte@example.net>'), /^553 5\.6\.7 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@example.net ARCPT=rfc822;c@example.net'), /^250 2\.1\.5 /);
  });

  test('an untrusted client cannot raise priority: 250 2.3.6 with the new value first', async () => {
    const ugw = await startGateway({ trusted: ['192.0.2.0/24'], routes: [{ domains: ['example.net'], via: 'maildir:./mail' }] });
    const u = await RawSmtp.connect(ugw.port);
    try {
      await u.ehlo();
      assert.match(await u.cmd('MAIL FROM:<a@example.com> MT-PRIORITY=6'), /^250 2\.3\.6 0 /);
      assert.match(await u.cmd('RCPT TO:<b@example.net>'), /^250 /);
      const id = /queued as (\S+)/.exec(await u.data(MSG))?.[1];
      const m = ugw.gateway.store.get(id!);
      assert.equal(m?.priority.value, 0);
      assert.equal(m?.priority.requested, 6);
      assert.equal(m?.priority.source, 'policy');
      // lowering is always allowed, and relaying to a non-local domain is not
      assert.match(await u.cmd('MAIL FROM:<a@example.com> MT-PRIORITY=-4'), /^250 2\.1\.0 /);
      assert.match(await u.cmd('RCPT TO:<b@elsewhere.example>'), /^550 5\.7\.1 /);
    } finally {
      await u.quit();
      await ugw.stop();
    }
  });
});

describe('policy: congestion mode and size per priority', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ priority: { policy: 'STANAG4406', minAccepted: 2, maxSize: { '6': 4096 } } });
  });
  after(() => gw.stop());

  test('priority below the accepted minimum -> 450 4.7.15', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    assert.match(await c.cmd('MAIL FROM:<a@example.com> MT-PRIORITY=0'), /^450 4\.7\.15 /);
    assert.match(await c.cmd('MAIL FROM:<a@example.com>'), /^450 4\.7\.15 /); // no priority given means 0
    assert.match(await c.cmd('MAIL FROM:<a@example.com> MT-PRIORITY=2'), /^250 /);
    await c.quit();
  });

  test('declared size over the cap of its priority -> 552 5.7.16 at MAIL, and after DATA without SIZE', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    assert.match(await c.cmd('MAIL FROM:<> SIZE=10000 MT-PRIORITY=6'), /^552 5\.7\.16 /);
    assert.match(await c.cmd('MAIL FROM:<a@example.com> MT-PRIORITY=6'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net>'), /^250 /);
    assert.match(await c.data(MSG + 'x'.repeat(70) + '\r\n'.repeat(1) + ('y'.repeat(76) + '\r\n').repeat(60)), /^552 5\.7\.16 /);
    assert.equal(gw.gateway.store.count(), 0);
    await c.quit();
  });
});

describe('bad input', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ limits: { maxMessageSize: 20000, maxRecipients: 3, maxReceived: 5 } });
  });
  after(() => gw.stop());

  async function session(): Promise<RawSmtp> {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    return c;
  }

  test('RCPT lines past the 1036 octets of RFC 3461 5.4 with every DSN and ALTRECIP parameter are accepted', async () => {
    const c = await session();
    const domain = (n: number) => Array.from({ length: n }, (_, i) => `label${i}-${'d'.repeat(50)}`).join('.') + '.example';
    assert.match(await c.cmd(`MAIL FROM:<${'s'.repeat(64)}@${domain(3)}> ENVID=${'E'.repeat(100)} RET=HDRS BY=3600;NT ABY=600;R MT-PRIORITY=-2 SIZE=1000 BODY=8BITMIME`), /^250 /);
    const rcpt = `${'r'.repeat(64)}@${domain(3)}`;
    const orcpt = `rfc822;${'o+2B'.repeat(60)}${'p'.repeat(200)}@${domain(1)}`.slice(0, 493);
    const line = `RCPT TO:<${rcpt}> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=${orcpt.replace(/\+2$|\+$/, '')} ARCPT=rfc822;${'a'.repeat(64)}@${domain(3)}`;
    assert.ok(line.length > 1036, `line is only ${line.length} octets`);
    assert.match(await c.cmd(line), /^250 2\.1\.5 /);
    await c.quit();
  });

  test('a command line of 20000 octets ends the session with 421 and stores nothing', async () => {
    const before = gw.gateway.store.count();
    const c = await session();
    await c.cmd('MAIL FROM:<a@example.com>');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.cmd(`RCPT TO:<c@example.net> X=${'y'.repeat(20000)}`), /^421 .*too long/);
    c.destroy();
    assert.equal(gw.gateway.store.count(), before);
  });

  test('too many recipients -> 452 4.5.3', async () => {
    const c = await session();
    await c.cmd('MAIL FROM:<a@example.com>');
    for (const n of [1, 2, 3]) assert.match(await c.cmd(`RCPT TO:<r${n}@example.net>`), /^250 /);
    assert.match(await c.cmd('RCPT TO:<r4@example.net>'), /^452 4\.5\.3 /);
    await c.quit();
  });

  test('bare LF and bare CR in DATA are refused and nothing is stored', async () => {
    const c = await session();
    for (const body of ['Subject: x\r\n\r\nline\nmore\r\n', 'Subject: x\r\n\r\nline\rmore\r\n']) {
      await c.cmd('MAIL FROM:<a@example.com>');
      await c.cmd('RCPT TO:<b@example.net>');
      assert.match(await c.data(body), /^550 5\.6\.0 /);
    }
    // LF.LF is not an end of data: the message goes on until CRLF.CRLF and is then refused for its bare LFs
    await c.cmd('MAIL FROM:<a@example.com>');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.data('Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@example.com>\r\n'), /^550 5\.6\.0 /);
    assert.equal(gw.gateway.store.count(), 0);
    await c.quit();
  });

  test('8-bit content needs BODY=8BITMIME', async () => {
    const c = await session();
    await c.cmd('MAIL FROM:<a@example.com>');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.data(Buffer.from('Subject: x\r\n\r\nGr\xfc\xdfe\r\n', 'latin1')), /^554 5\.6\.1 /);
    await c.cmd('MAIL FROM:<a@example.com> BODY=8BITMIME');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.data(Buffer.from('Subject: x\r\n\r\nGr\xfc\xdfe\r\n', 'latin1')), /^250 2\.6\.0 /);
    await c.quit();
  });

  test('a message over the limit -> 552 5.3.4 and nothing is stored', async () => {
    const before = gw.gateway.store.count();
    const c = await session();
    assert.match(await c.cmd('MAIL FROM:<a@example.com> SIZE=30000'), /^552 5\.3\.4 /);
    await c.cmd('MAIL FROM:<a@example.com>');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.data('Subject: big\r\n\r\n' + ('z'.repeat(98) + '\r\n').repeat(300)), /^552 5\.3\.4 /);
    assert.equal(gw.gateway.store.count(), before);
    await c.quit();
  });

  test('a loop (Received count at the threshold) -> 554 5.4.6', async () => {
    const c = await session();
    await c.cmd('MAIL FROM:<a@example.com>');
    await c.cmd('RCPT TO:<b@example.net>');
    const trace = 'Received: from x by y; Sat, 28 Nov 2026 10:00:00 +0000\r\n'.repeat(5);
    assert.match(await c.data(trace + MSG), /^554 5\.4\.6 /);
    await c.quit();
  });

  test('garbage commands get 500 and sequence errors 503', async () => {
    const c = await session();
    assert.match(await c.cmd('FROBNICATE now'), /^500 /);
    assert.match(await c.cmd('RCPT TO:<b@example.net>'), /^503 /);
    assert.match(await c.cmd('DATA'), /^503 /);
    assert.match(await c.cmd('MAIL FROM:<a@@example.com>'), /^501 /);
    await c.quit();
  });

  test('a client that drops mid-DATA leaves nothing in the queue', async () => {
    const before = gw.gateway.store.count();
    const c = await session();
    await c.cmd('MAIL FROM:<a@example.com>');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.cmd('DATA'), /^354 /);
    c.write('Subject: half\r\n\r\nthis message never ends\r\n');
    await new Promise((r) => setTimeout(r, 50));
    c.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gw.gateway.store.count(), before);
  });
});

describe('what the queue holds', () => {
  test('the seed dialog: envelope, deadlines, priority provenance, Received line, byte-exact content', async () => {
    const gw = await startGateway({ hostname: 'gw.field.example' });
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo('mua.example.com');
      const t0 = Date.now();
      assert.match(await c.cmd('MAIL FROM:<eljefe@example.com> BY=120;R ENVID=QQ314159 ABY=60;R MT-PRIORITY=4'), /^250 2\.1\.0 /);
      assert.match(await c.cmd('RCPT TO:<topbanana@example.net> ARCPT=rfc822;bottom-apple@loc2.example.org'), /^250 /);
      assert.match(await c.cmd('RCPT TO:<Dana@Ivory.example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example.net'), /^250 /);
      const body = 'From: eljefe@example.com\r\nSubject: seed\r\n\r\n..leading dot\r\n\x01binary-ish\r\n';
      const reply = await c.data(body);
      const id = /queued as (\S+)/.exec(reply)?.[1];
      assert.ok(id, reply);
      await c.quit();
      const m = gw.gateway.store.get(id);
      assert.ok(m);
      assert.equal(m.sender, 'eljefe@example.com');
      assert.equal(m.params.envid, 'QQ314159');
      assert.deepEqual({ mode: m.params.by?.mode, trace: m.params.by?.trace, s: m.params.by?.requestedSeconds }, { mode: 'R', trace: false, s: 120 });
      assert.ok(Math.abs(m.params.by!.at - (t0 + 120_000)) < 2000);
      assert.ok(Math.abs(m.params.aby!.at - (t0 + 60_000)) < 2000);
      assert.deepEqual(m.priority, { value: 4, source: 'mt-priority', requested: 4 });
      assert.deepEqual(
        m.recipients.map((r) => [r.address, r.notify, r.orcpt, r.arcpt, r.route, r.state]),
        [
          ['topbanana@example.net', null, undefined, { type: 'rfc822', address: 'bottom-apple@loc2.example.org' }, { kind: 'link', target: 'bravo' }, 'queued'],
          ['Dana@Ivory.example.net', ['SUCCESS', 'FAILURE'], { type: 'rfc822', address: 'Dana@Ivory.example.net' }, undefined, { kind: 'link', target: 'bravo' }, 'queued'],
        ],
      );
      const text = Buffer.from(m.content).toString('latin1');
      const received = /^Received: [^]*?\r\n(?![ \t])/.exec(text)?.[0] ?? '';
      assert.match(received, /^Received: from mua\.example\.com \(\[127\.0\.0\.1\]\)/);
      assert.match(received, /by gw\.field\.example/);
      assert.match(received, /with ESMTP/);
      assert.match(received, /PRIORITY 4;/);
      assert.doesNotMatch(received, /for </, 'two recipients: no for clause');
      // dot-unstuffed, otherwise byte for byte what the client sent
      assert.equal(text.slice(received.length), body.replace('\r\n..', '\r\n.'));
    } finally {
      await gw.stop();
    }
  });

  test('a single trusted MT-Priority: header sets the priority when no parameter is given', async () => {
    const gw = await startGateway();
    try {
      const c = await RawSmtp.connect(gw.port);
      await c.ehlo();
      await c.cmd('MAIL FROM:<a@example.com>');
      await c.cmd('RCPT TO:<b@example.net>');
      assert.match(await c.data('MT-Priority: 4 (flash)\r\nSubject: h\r\n\r\nx\r\n'), /^250 2\.6\.0 /);
      await c.cmd('MAIL FROM:<a@example.com>');
      await c.cmd('RCPT TO:<b@example.net>');
      assert.match(await c.data('MT-Priority: 4\r\nMT-Priority: 2\r\nSubject: h\r\n\r\nx\r\n'), /^250 2\.6\.0 /);
      await c.quit();
      const list = gw.gateway.store.list();
      assert.deepEqual(list.map((m) => [m.priority.value, m.priority.source]), [[4, 'header'], [0, 'policy']]);
    } finally {
      await gw.stop();
    }
  });
});

describe('transaction state and paths', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ routes: [{ domains: ['example.net'], via: 'maildir:./mail' }, { domains: ['*'], via: 'link:bravo' }] });
  });
  after(() => gw.stop());

  test('a refused nested MAIL leaves the open transaction as it was', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    assert.match(await c.cmd('MAIL FROM:<a@example.com> MT-PRIORITY=-2 ENVID=ORIG'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<x@example.net> NOTIFY=SUCCESS'), /^250 /);
    assert.match(await c.cmd('MAIL FROM:<evil@example.org> MT-PRIORITY=-4 ENVID=EVIL BY=100;N'), /^503 /);
    assert.match(await c.cmd('RCPT TO:<y@example.net>'), /^250 /);
    const id = /queued as (\S+)/.exec(await c.data(MSG))?.[1];
    await c.quit();
    const m = gw.gateway.store.get(id!)!;
    assert.equal(m.sender, 'a@example.com');
    assert.equal(m.params.envid, 'ORIG');
    assert.equal(m.params.by, undefined);
    assert.deepEqual(m.recipients.map((r) => r.address), ['x@example.net', 'y@example.net']);
    assert.equal(m.recipients[0]?.route.kind, 'maildir');
    assert.ok(m.recipients[0]?.route.target.startsWith(gw.dir), 'maildir paths are resolved against the config folder');
  });

  test('quoted local parts, UTF-8 recipients and their Received line survive intact', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    assert.match(await c.cmd('MAIL FROM:<a@example.com> SMTPUTF8'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<"john doe"@example.net>'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<"john..doe"@example.net>'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<用户é@example.net>'), /^250 /);
    const id = /queued as (\S+)/.exec(await c.data(MSG))?.[1];
    assert.match(await c.cmd('MAIL FROM:<a@example.com> SMTPUTF8'), /^250 /);
    assert.match(await c.cmd('RCPT TO:<用户é@example.net>'), /^250 /);
    const id2 = /queued as (\S+)/.exec(await c.data(MSG))?.[1];
    await c.quit();
    assert.deepEqual(gw.gateway.store.get(id!)!.recipients.map((r) => r.address), ['"john doe"@example.net', '"john..doe"@example.net', '用户é@example.net']);
    const content = Buffer.from(gw.gateway.store.get(id2!)!.content).toString('utf8');
    assert.match(content, /for <用户é@example\.net>/);
    assert.match(content, /with UTF8SMTP\s/);
  });

  test('BODY=7BIT does not admit 8-bit data, STARTTLS is unavailable without TLS, invalid UTF-8 is refused', async () => {
    const c = await RawSmtp.connect(gw.port);
    await c.ehlo();
    await c.cmd('MAIL FROM:<a@example.com> BODY=7BIT');
    await c.cmd('RCPT TO:<b@example.net>');
    assert.match(await c.data(Buffer.from('Subject: x\r\n\r\nGr\xfc\xdfe\r\n', 'latin1')), /^554 5\.6\.1 /);
    assert.match(await c.cmd('STARTTLS'), /^5\d\d /);
    c.write(Buffer.concat([Buffer.from('MAIL FROM:<a\xff@example.com>', 'latin1'), Buffer.from(' SMTPUTF8\r\n')]));
    assert.match(await c.reply(), /^501 /);
    await c.quit();
  });
});
