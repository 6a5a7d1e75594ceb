// Two `hfmail start` stations, alpha (field.example) and bravo (base.example), over a Direwolf pair
// (test/support/direwolf.ts): each on its modem's KISS TCP port, or alpha on a serial pty that socat bridges to
// its KISS port. Mail goes in over SMTP at alpha and is looked for in bravo's Maildir; everything (stations,
// socat, modems) is stopped by `stop()`, which the tests call in `finally` and an exit of the process calls too.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDirewolfPair, type DirewolfPair, type ModemOptions } from './direwolf.ts';
import { freePort, GatewayProcess, HFMAIL_BIN } from './gateway-process.ts';
import { RawSmtp } from './smtp-client.ts';

export interface StationsOptions {
  readonly a?: ModemOptions;
  readonly b?: ModemOptions;
  /** The profile both stations use (default direwolf-afsk1200). */
  readonly profile?: string;
  /** Alpha reaches its modem through a socat pty (a serial device) instead of TCP. */
  readonly alphaSerial?: boolean;
  /** Extra lines for both station files. */
  readonly extraConfig?: readonly string[];
}

export interface Arrival {
  readonly file: string;
  readonly bytes: Buffer;
  /** ms since the stations were started, when first seen. */
  readonly at: number;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** A message as a client writes it, CRLF line ends; `body` lines follow the headers. */
export function message(subject: string, body: string, from = 'op@field.example', to = 'ops@base.example'): Buffer {
  return Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@field.example>\r\n\r\n${body}`);
}

/** About `size` bytes of text that compresses like mail with an attachment (base64 of noise): lines of 76. */
export function attachmentText(size: number, seed: number): string {
  let s = seed >>> 0;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  while (out.length < size) {
    let line = '';
    for (let i = 0; i < 76; i++) line += alphabet[(s = (s * 1103515245 + 12345) >>> 0) >>> 26]!;
    out += line + '\r\n';
  }
  return out;
}

export async function direwolfStations(o: StationsOptions = {}) {
  const t0 = Date.now();
  const modems: DirewolfPair = await startDirewolfPair(o.a, o.b);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-dw-stations-'));
  const log: string[] = [];
  const gateways: { name: string; child: ChildProcess; exited: boolean }[] = [];
  let socat: ChildProcess | undefined;
  const smtp = { alpha: await freePort(), bravo: await freePort() };
  const stop = async () => {
    for (const g of gateways) if (!g.exited) g.child.kill('SIGTERM');
    const until = Date.now() + 5000;
    while (gateways.some((g) => !g.exited) && Date.now() < until) await sleep(50);
    for (const g of gateways) if (!g.exited) g.child.kill('SIGKILL');
    socat?.kill('SIGKILL');
    for (const c of [...gateways.map((g) => g.child), ...(socat ? [socat] : [])]) children.delete(c);
    await modems.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(path.join(dir, 'shared.key'), 'a key shared by alpha and bravo over Direwolf');
    let alphaPort = `tcp://127.0.0.1:${modems.kissA}`;
    if (o.alphaSerial) {
      const tty = path.join(dir, 'ttyA');
      socat = spawn('socat', [`pty,raw,echo=0,link=${tty}`, `TCP:127.0.0.1:${modems.kissA}`], { stdio: 'ignore' });
      children.add(socat);
      for (let i = 0; i < 100 && !existsSync(tty); i++) await sleep(50);
      if (!existsSync(tty)) throw new Error('socat did not make the pty for alpha');
      alphaPort = tty;
    }
    const profile = o.profile ?? 'direwolf-afsk1200';
    const conf = (name: 'alpha' | 'bravo', peer: string, port: string, local: string) =>
      [
        `station: ${name}`,
        `listen: 127.0.0.1:${smtp[name]}`,
        `data: ./${name}-data`,
        'deliverBy: { min: 1 }',
        ...(o.extraConfig ?? []),
        'routes:',
        `  - { domains: [${local}], via: "maildir:./${name}-mail" }`,
        `  - { domains: ["*"], via: "link:${peer}" }`,
        'links:',
        // The test pair needs the TNCs' own FULLDUP ON: no KISS set-up from the stations.
        `  - { peer: ${peer}, port: "${port}", profile: ${profile}, tnc: keep, key: ./shared.key }`,
        '',
      ].join('\n');
    writeFileSync(path.join(dir, 'alpha.yaml'), conf('alpha', 'bravo', alphaPort, 'field.example'));
    writeFileSync(path.join(dir, 'bravo.yaml'), conf('bravo', 'alpha', `tcp://127.0.0.1:${modems.kissB}`, 'base.example'));
    for (const name of ['alpha', 'bravo'] as const) {
      mkdirSync(path.join(dir, `${name}-mail`), { recursive: true });
      const child = spawn(process.execPath, [HFMAIL_BIN, 'start', '--config', path.join(dir, `${name}.yaml`)], {
        cwd: dir,
        env: { ...process.env, HFMAIL_LOG_LEVEL: 'debug' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.add(child);
      const g = { name, child, exited: false };
      child.once('exit', () => (g.exited = true));
      let partial = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        const parts = (partial + d).split('\n');
        partial = parts.pop()!;
        for (const line of parts) log.push(`[${name}] ${line}`);
      });
      gateways.push(g);
    }
    for (const name of ['alpha', 'bravo'] as const) await new GatewayProcess(smtp[name]).waitReady(30_000);
  } catch (err) {
    const text = `${(err as Error).message}\n${tailOf(log)}\n${modems.logs()}`;
    await stop();
    throw new Error(text);
  }

  const seen = new Map<string, Arrival>();
  /** New files in a station's Maildir (new/), each with when it was first seen. */
  const scan = (name: 'alpha' | 'bravo'): Arrival[] => {
    const folder = path.join(dir, `${name}-mail`, 'new');
    if (!existsSync(folder)) return [];
    for (const f of readdirSync(folder).sort()) {
      const file = path.join(folder, f);
      if (!seen.has(file)) seen.set(file, { file, bytes: readFileSync(file), at: Date.now() - t0 });
    }
    return [...seen.values()].filter((a) => a.file.startsWith(folder));
  };

  return {
    dir,
    modems,
    /** ms since the pair was started. */
    elapsed: () => Date.now() - t0,
    log: () => tailOf(log),
    /** Every log line of a station, parsed (pino JSON). */
    events(name: 'alpha' | 'bravo'): Record<string, unknown>[] {
      return log
        .filter((l) => l.startsWith(`[${name}] {`))
        .map((l) => {
          try {
            return JSON.parse(l.slice(name.length + 3)) as Record<string, unknown>;
          } catch {
            return {};
          }
        });
    },
    /** The station's status file (what `hfmail status` reads). */
    status(name: 'alpha' | 'bravo'): { links: Record<string, unknown>[] } | undefined {
      const f = path.join(dir, `${name}-data`, 'status.json');
      try {
        return JSON.parse(readFileSync(f, 'utf8')) as { links: Record<string, unknown>[] };
      } catch {
        return undefined;
      }
    },
    /** Sends messages at alpha in one SMTP session: each with its MT-PRIORITY and optional BY (seconds, R mode). */
    async send(messages: readonly { raw: Buffer; priority: number; by?: number; from?: string; to?: string }[]): Promise<void> {
      const c = await RawSmtp.connect(smtp.alpha);
      const expect = async (cmd: string | Buffer, code: string) => {
        if (typeof cmd === 'string') c.write(`${cmd}\r\n`);
        else c.write(cmd);
        const r = await c.reply(60_000);
        if (!r.startsWith(code)) throw new Error(`${String(cmd).slice(0, 60)}: ${r}`);
      };
      await expect('EHLO client.field.example', '250');
      for (const m of messages) {
        await expect(`MAIL FROM:<${m.from ?? 'op@field.example'}> MT-PRIORITY=${m.priority}${m.by !== undefined ? ` BY=${m.by};R` : ''}`, '250');
        await expect(`RCPT TO:<${m.to ?? 'ops@base.example'}>`, '250');
        await expect('DATA', '354');
        const stuffed = m.raw.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
        await expect(Buffer.from(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'), '250');
      }
      c.write('QUIT\r\n');
    },
    arrivals: scan,
    /** Waits until `done(arrivals at bravo)` holds, checking every 250 ms, at most `timeoutMs`; returns whether it held. */
    async waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if (done()) return true;
        await sleep(250);
      }
      return done();
    },
    stop,
  };
}

function tailOf(lines: readonly string[], n = 60): string {
  return lines.slice(-n).join('\n');
}
