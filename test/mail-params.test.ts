import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isParamError,
  parseMailCommand,
  parseRcptCommand,
  type AdvertisedExtensions,
  type MailCommand,
  type ParamError,
  type ParamErrorCode,
  type RcptCommand,
} from '../src/mail/index.ts';

/** Everything advertised, as the gateway does by default. */
const ALL: AdvertisedExtensions = {
  size: 10485760,
  eightBitMime: true,
  smtpUtf8: true,
  dsn: true,
  deliverByMin: 60,
  mtPriority: 'MIXER',
  draftPriority: true,
  altRecip: true,
  auth: false,
};
const T0 = Date.UTC(2025, 2, 4, 10, 0, 0);
const FROM = 'MAIL FROM:<eljefe@example.com>';
const TO = 'RCPT TO:<topbanana@example.net>';

function mail(params: string, ext: AdvertisedExtensions = ALL): MailCommand | ParamError {
  return parseMailCommand(params === '' ? FROM : `${FROM} ${params}`, ext, T0);
}
function mailOk(params: string, ext: AdvertisedExtensions = ALL): MailCommand {
  const r = mail(params, ext);
  if (isParamError(r)) assert.fail(`expected ${JSON.stringify(params)} to be accepted, got ${r.error}: ${r.detail}`);
  return r;
}
function mailErr(params: string, code: ParamErrorCode, ext: AdvertisedExtensions = ALL, param?: string): void {
  const r = mail(params, ext);
  if (!isParamError(r)) assert.fail(`expected ${JSON.stringify(params)} to be refused with ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.error, code, `${JSON.stringify(params)}: ${r.detail}`);
  if (param !== undefined) assert.equal(r.param, param);
}
function rcpt(line: string, ext: AdvertisedExtensions = ALL, smtputf8 = false): RcptCommand | ParamError {
  return parseRcptCommand(line, ext, smtputf8);
}
function rcptOk(line: string, ext: AdvertisedExtensions = ALL, smtputf8 = false): RcptCommand {
  const r = rcpt(line, ext, smtputf8);
  if (isParamError(r)) assert.fail(`expected ${JSON.stringify(line)} to be accepted, got ${r.error}: ${r.detail}`);
  return r;
}
function rcptErr(line: string, code: ParamErrorCode, ext: AdvertisedExtensions = ALL, smtputf8 = false): void {
  const r = rcpt(line, ext, smtputf8);
  if (!isParamError(r)) assert.fail(`expected ${JSON.stringify(line)} to be refused with ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.error, code, `${JSON.stringify(line)}: ${r.detail}`);
}

describe('MT-PRIORITY (RFC 6710, digest §2.2, §2.9)', () => {
  for (const [v, n] of [['0', 0], ['9', 9], ['-9', -9], ['3', 3], ['-1', -1]] as const) {
    it(`MT-PRIORITY=${v} is accepted as ${n}`, () => {
      assert.deepEqual(mailOk(`MT-PRIORITY=${v}`).priorityRequest, { kind: 'mt-priority', value: n });
    });
  }
  for (const token of ['MT-PRIORITY=+3', 'MT-PRIORITY=03', 'MT-PRIORITY=-0', 'MT-PRIORITY=10', 'MT-PRIORITY=-10', 'MT-PRIORITY=', 'MT-PRIORITY=3.0', 'MT-PRIORITY=--1', 'MT-PRIORITY=a', 'MT-PRIORITY']) {
    it(`${token} is a priority syntax error (501)`, () => mailErr(token, 'priority-syntax', ALL, 'MT-PRIORITY'));
  }
  it('the keyword is case-insensitive (RFC 5321 §2.4)', () => {
    assert.deepEqual(mailOk('mt-priority=3').priorityRequest, { kind: 'mt-priority', value: 3 });
    assert.deepEqual(mailOk('Mt-Priority=-2').priorityRequest, { kind: 'mt-priority', value: -2 });
  });
  it('MT-PRIORITY twice is refused, even with equal values', () => mailErr('MT-PRIORITY=3 MT-PRIORITY=3', 'param-duplicate'));
  it('MT-PRIORITY twice in different case is a duplicate', () => mailErr('MT-PRIORITY=3 mt-priority=2', 'param-duplicate'));
  it('MT-PRIORITY with PRIORITY is a conflict (decisions.md: 501, one priority per message)', () => {
    mailErr('MT-PRIORITY=3 PRIORITY=40', 'param-conflict');
    mailErr('PRIORITY=40 MT-PRIORITY=3', 'param-conflict');
  });
  it('no priority parameter means no request', () => assert.equal(mailOk('').priorityRequest, undefined));
  it('works when MT-PRIORITY is advertised without a policy name', () => {
    assert.deepEqual(mailOk('MT-PRIORITY=2', { ...ALL, mtPriority: '' }).priorityRequest, { kind: 'mt-priority', value: 2 });
  });
  it('property: MT-PRIORITY=<n> is accepted exactly for canonical -9..9', () => {
    fc.assert(
      fc.property(fc.integer({ min: -30, max: 30 }), fc.constantFrom('', '+', '0'), (n, prefix) => {
        const text = n < 0 ? `-${prefix}${-n}` : `${prefix}${n}`;
        const r = mail(`MT-PRIORITY=${text}`);
        const valid = prefix === '' && n >= -9 && n <= 9;
        if (valid) assert.deepEqual(!isParamError(r) && r.priorityRequest, { kind: 'mt-priority', value: n });
        else assert.equal(isParamError(r) && r.error, 'priority-syntax', text);
      }),
    );
  });
});

describe('draft PRIORITY (decisions.md: -99..+99, leading + allowed)', () => {
  for (const [v, n] of [['40', 40], ['+40', 40], ['-99', -99], ['99', 99], ['+99', 99], ['0', 0], ['-1', -1], ['7', 7]] as const) {
    it(`PRIORITY=${v} is accepted as ${n}`, () => {
      assert.deepEqual(mailOk(`PRIORITY=${v}`).priorityRequest, { kind: 'draft-priority', value: n });
    });
  }
  for (const v of ['100', '-100', '+100', '4.5', '++1', '040', '-040', 'a', '']) {
    it(`PRIORITY=${v} is a syntax error`, () => {
      const r = mail(`PRIORITY=${v}`);
      if (!isParamError(r)) assert.fail(`PRIORITY=${v} accepted as ${JSON.stringify(r.priorityRequest)}`);
      assert.ok(r.error === 'priority-syntax' || r.error === 'param-syntax', r.error);
      assert.equal(r.param, 'PRIORITY');
    });
  }
  it('bare PRIORITY (no value) is a syntax error', () => {
    const r = mail('PRIORITY');
    assert.ok(isParamError(r) && (r.error === 'priority-syntax' || r.error === 'param-syntax'));
  });
  it('PRIORITY twice is a duplicate', () => mailErr('PRIORITY=1 PRIORITY=1', 'param-duplicate'));
  it('the seed example MAIL FROM:<eljefe@example.com> PRIORITY=40', () => {
    assert.deepEqual(mailOk('PRIORITY=40'), { sender: 'eljefe@example.com', params: { smtputf8: false }, priorityRequest: { kind: 'draft-priority', value: 40 } });
  });
});

describe('BY (RFC 2852, digest §3.2, §3.3, §3.7) with DELIVERBY 60', () => {
  const good: [string, { seconds: number; mode: 'R' | 'N'; trace: boolean }][] = [
    ['BY=120;R', { seconds: 120, mode: 'R', trace: false }],
    ['BY=0;N', { seconds: 0, mode: 'N', trace: false }],
    ['BY=+22;NT', { seconds: 22, mode: 'N', trace: true }],
    ['BY=-600;NT', { seconds: -600, mode: 'N', trace: true }],
    ['BY=120;r', { seconds: 120, mode: 'R', trace: false }],
    ['BY=120;rt', { seconds: 120, mode: 'R', trace: true }],
    ['BY=-5;n', { seconds: -5, mode: 'N', trace: false }],
    ['BY=30;N', { seconds: 30, mode: 'N', trace: false }],
    ['BY=60;R', { seconds: 60, mode: 'R', trace: false }],
    ['BY=999999999;N', { seconds: 999999999, mode: 'N', trace: false }],
    ['BY=-999999999;N', { seconds: -999999999, mode: 'N', trace: false }],
  ];
  for (const [token, { seconds, mode, trace }] of good) {
    it(`${token} → deadline receivedAt ${seconds >= 0 ? '+' : '-'} ${Math.abs(seconds)} s, mode ${mode}${trace ? ', trace' : ''}`, () => {
      assert.deepEqual(mailOk(token).params.by, { at: T0 + seconds * 1000, mode, trace, requestedSeconds: seconds });
    });
  }
  for (const token of ['BY=120', 'BY=120;', 'BY=120;T', 'BY=120;0', 'BY=120;;', 'BY=;R', 'BY=;', 'BY=', 'BY', 'BY=1234567890;N', 'BY=120;TR', 'BY=120;RR', 'BY=120;X', 'BY=12a;R', 'BY=+-1;N', 'BY=120 ;R']) {
    it(`${token} is a syntax error`, () => mailErr(token, 'param-syntax'));
  }
  it('BY=-10;RT is a syntax error: R mode needs a positive time (RFC 2852 §4)', () => mailErr('BY=-10;RT', 'param-syntax', ALL, 'BY'));
  it('BY=0;R is a syntax error (digest §3.7)', () => mailErr('BY=0;R', 'param-syntax', ALL, 'BY'));
  it('BY=30;R is below the advertised minimum (555, RFC 2852 §3)', () => mailErr('BY=30;R', 'by-below-minimum', ALL, 'BY'));
  it('BY=59;R is below a minimum of 60, BY=60;R is not', () => {
    mailErr('BY=59;R', 'by-below-minimum');
    mailOk('BY=60;R');
  });
  it('BY=1;R is fine when DELIVERBY has no minimum', () => {
    assert.equal(mailOk('BY=1;R', { ...ALL, deliverByMin: 0 }).params.by?.at, T0 + 1000);
  });
  it('BY twice is a duplicate', () => mailErr('BY=120;R BY=120;R', 'param-duplicate'));
  it('BY absent leaves params.by absent', () => assert.equal('by' in mailOk('').params, false));
  it('property: BY=<s>;N is accepted for any 1..9 digit time, deadline = receivedAt + s*1000', () => {
    fc.assert(
      fc.property(fc.integer({ min: -999999999, max: 999999999 }), fc.boolean(), fc.integer({ min: 0, max: 2e12 }), (s, t, at) => {
        const r = parseMailCommand(`${FROM} BY=${s};N${t ? 'T' : ''}`, ALL, at);
        if (isParamError(r)) assert.fail(r.detail);
        assert.deepEqual(r.params.by, { at: at + s * 1000, mode: 'N', trace: t, requestedSeconds: s });
      }),
    );
  });
});

describe('ABY (ALTRECIP, decisions.md)', () => {
  it('ABY=60;R with BY=120;R is accepted and anchored at receipt', () => {
    const m = mailOk('BY=120;R ABY=60;R');
    assert.deepEqual(m.params.aby, { at: T0 + 60000, mode: 'R', trace: false, requestedSeconds: 60 });
  });
  it('ABY=60;N is accepted', () => assert.equal(mailOk('ABY=60;N').params.aby?.mode, 'N'));
  it('ABY without BY is accepted', () => assert.equal(mailOk('ABY=60;R').params.aby?.at, T0 + 60000));
  it('ABY equal to BY is a conflict (ABY must be < BY)', () => mailErr('BY=120;R ABY=120;R', 'param-conflict'));
  it('ABY longer than BY is a conflict, whichever comes first', () => {
    mailErr('ABY=200;R BY=120;R', 'param-conflict');
    mailErr('BY=120;N ABY=121;N', 'param-conflict');
  });
  it('ABY=0;R is a syntax error (seconds > 0)', () => mailErr('ABY=0;R', 'param-syntax', ALL, 'ABY'));
  it('ABY=0;N and ABY=-5;N are syntax errors (seconds > 0 whatever the mode)', () => {
    mailErr('ABY=0;N', 'param-syntax');
    mailErr('ABY=-5;N', 'param-syntax');
  });
  for (const token of ['ABY=60', 'ABY=60;X', 'ABY=;R', 'ABY']) {
    it(`${token} is a syntax error (same grammar as BY)`, () => mailErr(token, 'param-syntax'));
  }
  it('ABY twice is a duplicate', () => mailErr('ABY=60;R ABY=60;R', 'param-duplicate'));
  it('ABY with ALTRECIP not advertised is unknown (555)', () => mailErr('ABY=60;R', 'param-unknown', { ...ALL, altRecip: false }));
  it('ABY without DELIVERBY on the server is unknown (decisions.md: ABY requires DELIVERBY)', () =>
    mailErr('ABY=60;R', 'param-unknown', { ...ALL, deliverByMin: null }));
});

describe('DSN MAIL parameters (RFC 3461 §4.3-4.4, digest §4.1-4.3)', () => {
  it('ENVID=QQ314159', () => assert.equal(mailOk('ENVID=QQ314159').params.envid, 'QQ314159'));
  it('ENVID=A+2B decodes to "A+"', () => assert.equal(mailOk('ENVID=A+2B').params.envid, 'A+'));
  it('ENVID=a+20b decodes a space', () => assert.equal(mailOk('ENVID=a+20b').params.envid, 'a b'));
  for (const token of ['ENVID=A+2b', 'ENVID=A+', 'ENVID=+G1', 'ENVID=', 'ENVID', 'ENVID=a=b', 'ENVID=A+C3+A9']) {
    it(`${token} is a syntax error`, () => mailErr(token, 'param-syntax', ALL));
  }
  it('ENVID of 100 characters is accepted, 101 refused', () => {
    assert.equal(mailOk(`ENVID=${'x'.repeat(100)}`).params.envid, 'x'.repeat(100));
    mailErr(`ENVID=${'x'.repeat(101)}`, 'param-syntax', ALL, 'ENVID');
  });
  it('ENVID must decode to printable US-ASCII (RFC 3461 §4.4): +00 and +7F are refused', () => {
    mailErr('ENVID=A+00B', 'param-syntax');
    mailErr('ENVID=A+7FB', 'param-syntax');
  });
  it('ENVID twice is a duplicate', () => mailErr('ENVID=a ENVID=b', 'param-duplicate', ALL, 'ENVID'));
  for (const [v, ret] of [['FULL', 'FULL'], ['HDRS', 'HDRS'], ['full', 'FULL'], ['Hdrs', 'HDRS']] as const) {
    it(`RET=${v} → ${ret}`, () => assert.equal(mailOk(`RET=${v}`).params.ret, ret));
  }
  for (const token of ['RET=BOGUS', 'RET=', 'RET', 'RET=FULLHDRS']) {
    it(`${token} is a syntax error`, () => mailErr(token, 'param-syntax'));
  }
  it('RET twice is a duplicate', () => mailErr('RET=FULL RET=HDRS', 'param-duplicate'));
});

describe('SIZE, BODY, SMTPUTF8, AUTH (digest §7)', () => {
  it('SIZE=1000', () => assert.equal(mailOk('SIZE=1000').params.size, 1000));
  it('SIZE=0', () => assert.equal(mailOk('SIZE=0').params.size, 0));
  it('SIZE of 20 digits is accepted', () => assert.equal(typeof mailOk(`SIZE=${'9'.repeat(20)}`).params.size, 'number'));
  for (const token of ['SIZE=abc', 'SIZE=-1', 'SIZE=+1', 'SIZE=1.5', 'SIZE=', 'SIZE', `SIZE=${'1'.repeat(21)}`]) {
    it(`${token} is a syntax error`, () => mailErr(token, 'param-syntax'));
  }
  it('SIZE twice is a duplicate', () => mailErr('SIZE=1 SIZE=1', 'param-duplicate'));
  for (const [v, body] of [['7BIT', '7BIT'], ['8BITMIME', '8BITMIME'], ['8bitmime', '8BITMIME'], ['7bit', '7BIT']] as const) {
    it(`BODY=${v} → ${body}`, () => assert.equal(mailOk(`BODY=${v}`).params.body, body));
  }
  for (const token of ['BODY=BINARYMIME', 'BODY=', 'BODY', 'BODY=8BIT']) {
    it(`${token} is refused as a syntax error`, () => mailErr(token, 'param-syntax'));
  }
  it('SMTPUTF8 sets the flag; absent it is false', () => {
    assert.equal(mailOk('SMTPUTF8').params.smtputf8, true);
    assert.equal(mailOk('smtputf8').params.smtputf8, true);
    assert.equal(mailOk('').params.smtputf8, false);
  });
  it('SMTPUTF8 with a value is a syntax error', () => mailErr('SMTPUTF8=yes', 'param-syntax', ALL, 'SMTPUTF8'));
  it('AUTH= is unknown when AUTH is not advertised', () => mailErr('AUTH=<>', 'param-unknown'));
  it('AUTH=<> and xtext AUTH= with AUTH advertised', () => {
    assert.equal(mailOk('AUTH=<>', { ...ALL, auth: true }).authParam, '');
    assert.equal(mailOk('AUTH=joe+40example.com', { ...ALL, auth: true }).authParam, 'joe@example.com');
    mailErr('AUTH=joe+4', 'param-syntax', { ...ALL, auth: true });
  });
});

describe('unknown and unadvertised parameters are param-unknown (555, RFC 5321 §4.1.1.11)', () => {
  it('X-UNKNOWN=1', () => mailErr('X-UNKNOWN=1', 'param-unknown', ALL, 'X-UNKNOWN'));
  it('RCPT parameters on MAIL', () => {
    mailErr('NOTIFY=NEVER', 'param-unknown');
    mailErr('ORCPT=rfc822;a@b.c', 'param-unknown');
    mailErr('ARCPT=rfc822;a@b.c', 'param-unknown');
  });
  const off: [string, Partial<AdvertisedExtensions>][] = [
    ['MT-PRIORITY=3', { mtPriority: null }],
    ['MT-PRIORITY=+3', { mtPriority: null }],
    ['PRIORITY=40', { draftPriority: false }],
    ['BY=120;R', { deliverByMin: null }],
    ['BY=30;R', { deliverByMin: null }],
    ['ENVID=QQ314159', { dsn: false }],
    ['RET=FULL', { dsn: false }],
    ['BODY=8BITMIME', { eightBitMime: false }],
    ['SMTPUTF8', { smtpUtf8: false }],
    ['ABY=60;R', { altRecip: false }],
  ];
  for (const [token, change] of off) {
    it(`${token} with ${JSON.stringify(change)}`, () => mailErr(token, 'param-unknown', { ...ALL, ...change }));
  }
  it('the other priority keyword still works when one is off', () => {
    assert.deepEqual(mailOk('PRIORITY=40', { ...ALL, mtPriority: null }).priorityRequest, { kind: 'draft-priority', value: 40 });
    assert.deepEqual(mailOk('MT-PRIORITY=4', { ...ALL, draftPriority: false }).priorityRequest, { kind: 'mt-priority', value: 4 });
  });
  it('RCPT: NOTIFY/ORCPT without DSN, ARCPT without ALTRECIP, MAIL-only keywords, X-UNKNOWN', () => {
    rcptErr(`${TO} NOTIFY=NEVER`, 'param-unknown', { ...ALL, dsn: false });
    rcptErr(`${TO} ORCPT=rfc822;a@b.c`, 'param-unknown', { ...ALL, dsn: false });
    rcptErr(`${TO} ARCPT=rfc822;a@b.c`, 'param-unknown', { ...ALL, altRecip: false });
    rcptErr(`${TO} MT-PRIORITY=3`, 'param-unknown'); // RFC 6710: a MAIL parameter only (digest §9, go-smtp pitfall)
    rcptErr(`${TO} BY=120;R`, 'param-unknown');
    rcptErr(`${TO} X-UNKNOWN=1`, 'param-unknown');
  });
});

describe('the seed first-hop dialog (000_167ddfa4474b9736.txt)', () => {
  it('MAIL FROM:<eljefe@example.com> BY=120;R ENVID=QQ314159 ABY=60;R', () => {
    const m = parseMailCommand('MAIL FROM:<eljefe@example.com> BY=120;R ENVID=QQ314159 ABY=60;R', ALL, T0);
    assert.deepEqual(m, {
      sender: 'eljefe@example.com',
      params: {
        smtputf8: false,
        envid: 'QQ314159',
        by: { at: T0 + 120000, mode: 'R', trace: false, requestedSeconds: 120 },
        aby: { at: T0 + 60000, mode: 'R', trace: false, requestedSeconds: 60 },
      },
    });
  });
  it('RCPT TO:<topbanana@example.net> ARCPT=rfc822;bottom-apple@loc2.example.org', () => {
    assert.deepEqual(rcpt('RCPT TO:<topbanana@example.net> ARCPT=rfc822;bottom-apple@loc2.example.org'), {
      recipient: 'topbanana@example.net',
      notify: null,
      arcpt: { type: 'rfc822', address: 'bottom-apple@loc2.example.org' },
    });
  });
  it('RCPT TO:<Dana@Ivory.example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example.net', () => {
    assert.deepEqual(rcpt('RCPT TO:<Dana@Ivory.example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example.net'), {
      recipient: 'Dana@Ivory.example.net',
      notify: ['SUCCESS', 'FAILURE'],
      orcpt: { type: 'rfc822', address: 'Dana@Ivory.example.net' },
    });
  });
});

describe('RCPT DSN parameters (RFC 3461 §4.1-4.2)', () => {
  it('NOTIFY absent → null (tri-state)', () => assert.equal(rcptOk(TO).notify, null));
  it('NOTIFY=NEVER and never → "NEVER"', () => {
    assert.equal(rcptOk(`${TO} NOTIFY=NEVER`).notify, 'NEVER');
    assert.equal(rcptOk(`${TO} NOTIFY=never`).notify, 'NEVER');
  });
  it('NOTIFY=success,failure → upper-cased list in order', () => assert.deepEqual(rcptOk(`${TO} NOTIFY=success,failure`).notify, ['SUCCESS', 'FAILURE']));
  it('NOTIFY=DELAY,SUCCESS,FAILURE', () => assert.deepEqual(rcptOk(`${TO} NOTIFY=DELAY,SUCCESS,FAILURE`).notify, ['DELAY', 'SUCCESS', 'FAILURE']));
  for (const v of ['NEVER,SUCCESS', 'SUCCESS,NEVER', 'SUCCESS,SUCCESS', 'FOO', 'SUCCESS,', ',SUCCESS', '', 'SUCCESS;FAILURE']) {
    it(`NOTIFY=${v} is a syntax error`, () => rcptErr(`${TO} NOTIFY=${v}`, 'param-syntax'));
  }
  it('bare NOTIFY is a syntax error', () => rcptErr(`${TO} NOTIFY`, 'param-syntax'));
  it('NOTIFY twice is a duplicate', () => rcptErr(`${TO} NOTIFY=NEVER NOTIFY=NEVER`, 'param-duplicate'));
  it('ORCPT=rfc822;bob+2Bsales@example.com decodes to bob+sales@example.com (digest §10 item 9)', () => {
    assert.deepEqual(rcptOk(`${TO} ORCPT=rfc822;bob+2Bsales@example.com`).orcpt, { type: 'rfc822', address: 'bob+sales@example.com' });
  });
  it('ORCPT keeps the case of the address (RFC 3461 §4.2)', () => {
    assert.deepEqual(rcptOk(`${TO} ORCPT=RFC822;Dana@Ivory.EXAMPLE.net`).orcpt, { type: 'RFC822', address: 'Dana@Ivory.EXAMPLE.net' });
  });
  for (const v of ['rfc822;bob+2bsales@example.com', 'rfc822;', ';a@b.c', 'rfc822', 'rfc 822;a@b.c', 'rfc822;j+C3+B6ran@example.com']) {
    it(`ORCPT=${v} is a syntax error`, () => rcptErr(`${TO} ORCPT=${v}`, 'param-syntax'));
  }
  it('ORCPT must decode to printable US-ASCII (RFC 3461 §4.2): +00 is refused', () => rcptErr(`${TO} ORCPT=rfc822;a+00b@example.com`, 'param-syntax'));
  it('ORCPT parameter up to 500 characters is accepted, longer refused (RFC 3461 §4.2)', () => {
    const value = (n: number) => `rfc822;${'a'.repeat(n - 'ORCPT=rfc822;@example.com'.length)}@example.com`;
    rcptOk(`${TO} ORCPT=${value(500)}`);
    rcptErr(`${TO} ORCPT=${value(501)}`, 'param-syntax');
  });
  it('ORCPT twice is a duplicate', () => rcptErr(`${TO} ORCPT=rfc822;a@b.c ORCPT=rfc822;a@b.c`, 'param-duplicate'));
});

describe('ARCPT (decisions.md)', () => {
  it('a valid rfc822 alternate, xtext-decoded', () => {
    assert.deepEqual(rcptOk(`${TO} ARCPT=rfc822;bob+2Bsales@example.com`).arcpt, { type: 'rfc822', address: 'bob+sales@example.com' });
  });
  it('addr-type is case-insensitive', () => assert.deepEqual(rcptOk(`${TO} ARCPT=RFC822;a@b.example`).arcpt, { type: 'rfc822', address: 'a@b.example' }));
  for (const v of ['rfc822;not-an-address', 'x400;a@b.c', 'rfc822;', 'rfc822', ';a@b.c', 'rfc822;a+2b@b.c', 'rfc822;a@@b.c', 'rfc822;a+20b@c.d']) {
    it(`ARCPT=${v} is a syntax error`, () => rcptErr(`${TO} ARCPT=${v}`, 'param-syntax'));
  }
  it('bare ARCPT is a syntax error', () => rcptErr(`${TO} ARCPT`, 'param-syntax'));
  it('ARCPT twice is a duplicate (once per RCPT)', () => rcptErr(`${TO} ARCPT=rfc822;a@b.c ARCPT=rfc822;d@e.f`, 'param-duplicate'));
  it('ARCPT with NOTIFY and ORCPT together', () => {
    assert.deepEqual(rcpt(`${TO} NOTIFY=FAILURE ORCPT=rfc822;topbanana@example.net ARCPT=rfc822;b@loc2.example.org`), {
      recipient: 'topbanana@example.net',
      notify: ['FAILURE'],
      orcpt: { type: 'rfc822', address: 'topbanana@example.net' },
      arcpt: { type: 'rfc822', address: 'b@loc2.example.org' },
    });
  });
});

describe('paths (RFC 5321 §4.1.2, RFC 6531)', () => {
  it('null sender MAIL FROM:<> is accepted with sender ""', () => {
    assert.deepEqual(parseMailCommand('MAIL FROM:<>', ALL, T0), { sender: '', params: { smtputf8: false } });
  });
  it('RCPT TO:<> is refused', () => rcptErr('RCPT TO:<>', 'address-syntax'));
  it('RCPT TO:<postmaster> is accepted, in any case (RFC 5321 §4.1.1.3)', () => {
    assert.equal(rcptOk('RCPT TO:<postmaster>').recipient, 'postmaster');
    assert.equal(rcptOk('RCPT TO:<Postmaster>').recipient, 'Postmaster');
  });
  it('verbs are case-insensitive and one space after the colon is tolerated', () => {
    assert.equal((parseMailCommand('mail from:<a@b.example>', ALL, T0) as MailCommand).sender, 'a@b.example');
    assert.equal(rcptOk('rcpt to: <a@b.example>').recipient, 'a@b.example');
  });
  it('a source route is accepted and dropped', () => assert.equal(rcptOk('RCPT TO:<@relay.example,@r2.example:a@b.example>').recipient, 'a@b.example'));
  it('quoted local part and address literal', () => {
    assert.equal(rcptOk('RCPT TO:<"john doe"@example.com>').recipient, '"john doe"@example.com');
    assert.equal(rcptOk('RCPT TO:<a@[192.0.2.1]>').recipient, 'a@[192.0.2.1]');
  });
  for (const line of ['MAIL FROM:eljefe@example.com', 'MAIL FROM:<a@@b>', 'MAIL FROM:<.a@b.c>', 'MAIL FROM:<a.@b.c>', 'MAIL FROM:<a..b@c.d>', 'MAIL FROM:<a@b..c>', 'MAIL FROM:<a@-b.c>', 'MAIL FROM:<@b.c>', 'MAIL FROM:<a@>', 'MAIL FROM:<ab.c>', 'MAIL FROM:<a@b.c', 'MAIL FROM:<a b@c.d>', 'MAIL FROM:<a@[300.1.1.1]>']) {
    it(`${line} is an address syntax error`, () => {
      const r = parseMailCommand(line, ALL, T0);
      assert.ok(isParamError(r), JSON.stringify(r));
      assert.equal(r.error, 'address-syntax', r.detail);
    });
  }
  it('RCPT address syntax errors', () => {
    rcptErr('RCPT TO:topbanana@example.net', 'address-syntax');
    rcptErr('RCPT TO:<a@@b>', 'address-syntax');
    rcptErr('RCPT TO:<.a@b.c>', 'address-syntax');
  });
  it('local part over 64 octets is refused', () => rcptErr(`RCPT TO:<${'a'.repeat(65)}@example.com>`, 'address-syntax'));
  it('garbage after the path or a wrong verb is a command syntax error', () => {
    for (const line of ['MAIL FROM:<a@b.example>X', 'MAIL TO:<a@b.example>', 'MAILFROM:<a@b.example>', 'RCPT TO:<a@b.example>']) {
      const r = parseMailCommand(line, ALL, T0);
      assert.ok(isParamError(r) && r.error === 'command-syntax', `${line}: ${JSON.stringify(r)}`);
    }
    rcptErr('RCPT FROM:<a@b.example>', 'command-syntax');
  });
  it('non-ASCII sender without SMTPUTF8 → address-non-ascii; with SMTPUTF8 accepted', () => {
    const r = parseMailCommand('MAIL FROM:<jöran@exämple.com>', ALL, T0);
    assert.ok(isParamError(r) && r.error === 'address-non-ascii', JSON.stringify(r));
    const ok = parseMailCommand('MAIL FROM:<jöran@exämple.com> SMTPUTF8', ALL, T0);
    assert.ok(!isParamError(ok), JSON.stringify(ok));
    assert.equal(ok.sender, 'jöran@exämple.com');
    assert.equal(ok.params.smtputf8, true);
  });
  it('non-ASCII recipient without SMTPUTF8 → address-non-ascii; with it accepted', () => {
    rcptErr('RCPT TO:<用户@例子.广告>', 'address-non-ascii', ALL, false);
    assert.equal(rcptOk('RCPT TO:<用户@例子.广告>', ALL, true).recipient, '用户@例子.广告');
  });
  it('raw UTF-8 in ARCPT is not xtext', () => {
    rcptErr(`${TO} ARCPT=rfc822;jöran@example.com`, 'param-syntax', ALL, false);
  });
});

describe('properties: the parsers are total', () => {
  const CODES = new Set<ParamErrorCode>(['command-syntax', 'address-syntax', 'address-non-ascii', 'param-syntax', 'priority-syntax', 'param-duplicate', 'param-conflict', 'param-unknown', 'by-below-minimum']);
  const KEYWORDS = ['MT-PRIORITY', 'mt-priority', 'PRIORITY', 'BY', 'ABY', 'ENVID', 'RET', 'SIZE', 'BODY', 'SMTPUTF8', 'AUTH', 'NOTIFY', 'ORCPT', 'ARCPT', 'X-FOO', ''];
  const VALUES = ['3', '+3', '-9', '40', '120;R', '60;N', '0;R', 'QQ1', 'A+2B', 'A+2b', 'FULL', 'hdrs', '1000', '8BITMIME', 'NEVER', 'SUCCESS,FAILURE', 'rfc822;a@b.c', 'rfc822;x', '<>', '', '='];
  const token = fc.oneof(
    fc.tuple(fc.constantFrom(...KEYWORDS), fc.option(fc.oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 8 })), { nil: null })).map(([k, v]) => (v === null ? k : `${k}=${v}`)),
    fc.string({ maxLength: 12 }),
  );
  const ext: fc.Arbitrary<AdvertisedExtensions> = fc.record({
    size: fc.constantFrom(0, 10485760),
    eightBitMime: fc.boolean(),
    smtpUtf8: fc.boolean(),
    dsn: fc.boolean(),
    deliverByMin: fc.constantFrom(null, 0, 60),
    mtPriority: fc.constantFrom(null, '', 'MIXER', 'STANAG4406'),
    draftPriority: fc.boolean(),
    altRecip: fc.boolean(),
    auth: fc.boolean(),
  });
  const path = fc.constantFrom('<eljefe@example.com>', '<>', '<postmaster>', '<jöran@example.com>', '<a@@b>', 'x@y.z', '<a@b.c');

  function checkResult(r: unknown, kind: 'mail' | 'rcpt'): void {
    if (isParamError(r)) {
      assert.ok(CODES.has(r.error), `unknown code ${r.error}`);
      assert.equal(typeof r.detail, 'string');
      return;
    }
    assert.equal(typeof r, 'object');
    const o = r as Record<string, unknown>;
    if (kind === 'mail') {
      assert.equal(typeof o.sender, 'string');
      assert.equal(typeof (o.params as { smtputf8: unknown }).smtputf8, 'boolean');
    } else {
      assert.equal(typeof o.recipient, 'string');
      assert.ok(o.notify === null || o.notify === 'NEVER' || Array.isArray(o.notify));
    }
  }

  it('arbitrary strings never throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), ext, fc.boolean(), (s, e, utf8) => {
        checkResult(parseMailCommand(s, e, T0), 'mail');
        checkResult(parseMailCommand('MAIL FROM:' + s, e, T0), 'mail');
        checkResult(parseRcptCommand(s, e, utf8), 'rcpt');
        checkResult(parseRcptCommand('RCPT TO:' + s, e, utf8), 'rcpt');
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary KEY=value token lists never throw; an accepted line never repeats a keyword', () => {
    fc.assert(
      fc.property(path, fc.array(token, { maxLength: 6 }), ext, fc.boolean(), (p, tokens, e, utf8) => {
        const tail = tokens.length ? ' ' + tokens.join(' ') : '';
        const m = parseMailCommand(`MAIL FROM:${p}${tail}`, e, T0);
        const r = parseRcptCommand(`RCPT TO:${p}${tail}`, e, utf8);
        checkResult(m, 'mail');
        checkResult(r, 'rcpt');
        const keywords = tokens.flatMap((t) => t.split(' ')).filter((t) => t !== '').map((t) => t.split('=')[0]!.toUpperCase());
        const repeated = new Set(keywords).size !== keywords.length;
        if (repeated) {
          assert.ok(isParamError(m), `accepted repeated keywords: ${tail}`);
          assert.ok(isParamError(r), `accepted repeated keywords: ${tail}`);
        }
        if (!isParamError(m) && m.priorityRequest?.kind === 'mt-priority') {
          assert.ok(m.priorityRequest.value >= -9 && m.priorityRequest.value <= 9);
          assert.ok(!keywords.includes('PRIORITY'));
        }
      }),
      { numRuns: 500 },
    );
  });
});
