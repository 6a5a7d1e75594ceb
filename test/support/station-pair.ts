import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, GatewayProcess, HFMAIL_BIN } from './gateway-process.ts';
import { ptyPair } from './pty-pair.ts';

/**
 * Short overs on a fast half-duplex line: what one over leaves unacknowledged is well under a message, as on HF,
 * where an over carries some kilobytes and a message with a photo tens of them. Pair with
 * `--bit-rate 19200 --turnaround 100` for the channel.
 */
export const SHORT_OVERS_PROFILE = [
  'name: test-19200',
  'description: half-duplex test radio with short overs',
  'serial: { baudRate: 115200 }',
  'framing: kiss',
  'kiss: { port: 0, txDelayMs: 50, persistence: 255, slotTimeMs: 10, txTailMs: 10, fullDuplex: false }',
  'onAirBitRate: 19200',
  'duplex: half',
  'turnaroundMs: 100',
  'maxFrameBytes: 512',
  'window: 32',
  'maxOverS: 1',
  'arq: hfmail',
].join('\n');

/**
 * Two `hfmail start` processes, alpha (field.example) and bravo (base.example), each on its own socat pty,
 * and `hfmail sim channel` between the far ends once `radio()` is called. Everything is killed by `close()`.
 */
export async function stationPair(channelArgs: string[], opts: { logLevel?: string; profile?: string; failpoints?: { alpha?: string; bravo?: string } } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-pair-'));
  const pa = await ptyPair();
  const pb = await ptyPair();
  writeFileSync(path.join(dir, 'link.key'), 'a key shared by alpha and bravo, 32b');
  const ports = { alpha: await freePort(), bravo: await freePort() };
  // A profile of the test's own (YAML), in a profiles folder of its own; otherwise the shipped kiss-9600.
  let profile = 'kiss-9600';
  if (opts.profile) {
    profile = /^name: (\S+)$/m.exec(opts.profile)![1]!;
    mkdirSync(path.join(dir, 'profiles'));
    writeFileSync(path.join(dir, 'profiles', `${profile}.yaml`), opts.profile);
  }
  const conf = (name: 'alpha' | 'bravo', peer: string, tty: string, local: string) =>
    [
      `station: ${name}`,
      `hostname: ${name}.${local}`,
      `listen: 127.0.0.1:${ports[name]}`,
      `data: ./${name}`,
      ...(opts.profile ? ['profiles: ./profiles'] : []),
      'routes:',
      `  - { domains: [${local}], via: "maildir:./${name}-mail" }`,
      `  - { domains: ["*"], via: "link:${peer}" }`,
      'links:',
      `  - { peer: ${peer}, port: ${tty}, profile: ${profile}, key: ./link.key }`,
    ].join('\n');
  writeFileSync(path.join(dir, 'alpha.yaml'), conf('alpha', 'bravo', pa.a, 'field.example'));
  writeFileSync(path.join(dir, 'bravo.yaml'), conf('bravo', 'alpha', pb.a, 'base.example'));
  const log: string[] = [];
  /** Each process's complete stderr lines (pino JSON), by name, across restarts. */
  const lines = new Map<string, string[]>();
  const children = new Map<string, ChildProcess>();
  const spawnHfmail = (name: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [HFMAIL_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HFMAIL_LOG_LEVEL: opts.logLevel ?? 'info', ...env } });
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      log.push(`[${name}] ${d}`);
      const parts = (partial + d.toString('utf8')).split('\n');
      partial = parts.pop()!;
      if (!lines.has(name)) lines.set(name, []);
      lines.get(name)!.push(...parts);
    });
    children.set(name, child);
    return child;
  };
  /** Starts a station; `failpoint` makes it kill itself at that point (src/core/failpoint.ts). */
  const start = async (name: 'alpha' | 'bravo', failpoint?: string) => {
    spawnHfmail(name, ['start', '--config', path.join(dir, `${name}.yaml`)], failpoint ? { HFMAIL_FAILPOINT: failpoint } : {});
    const probe = new GatewayProcess(ports[name]);
    await probe.waitReady();
    probe.removeDir();
  };
  /** Resolves when the station's process has gone (a failpoint killed it); fails after `ms`. */
  const exited = (name: 'alpha' | 'bravo', ms: number) =>
    new Promise<void>((resolve, reject) => {
      const c = children.get(name)!;
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const timer = setTimeout(() => reject(new Error(`${name} did not die within ${ms} ms`)), ms);
      c.once('exit', () => (clearTimeout(timer), resolve()));
    });
  const kill = async (name: 'alpha' | 'bravo') => {
    const c = children.get(name);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  const close = () => {
    for (const c of children.values()) c.kill('SIGKILL');
    pa.close();
    pb.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await start('alpha', opts.failpoints?.alpha);
    await start('bravo', opts.failpoints?.bravo);
  } catch (err) {
    close(); // leave no socat or gateway behind to keep the test process alive
    throw new Error(`${(err as Error).message}; logs:\n${log.join('').slice(-2000)}`);
  }
  return {
    dir,
    ports,
    log,
    lines,
    exited,
    /** How a station's process stands, and its last log lines: for a failure's message. */
    describe(name: 'alpha' | 'bravo', tail = 1500): string {
      const c = children.get(name);
      const state = !c ? 'never started' : c.exitCode !== null || c.signalCode !== null ? `exited (${c.exitCode ?? c.signalCode})` : 'running';
      return `${name} ${state}; its last output:\n${log.filter((l) => l.startsWith(`[${name}]`)).join('').slice(-tail)}`;
    },
    start,
    kill,
    radio: () => void spawnHfmail('radio', ['sim', 'channel', '--a', pa.b, '--b', pb.b, ...channelArgs]),
    /** Files delivered into a station's Maildir, oldest first. */
    delivered(name: 'alpha' | 'bravo'): { name: string; text: string }[] {
      const box = path.join(dir, `${name}-mail`, 'new');
      let files: string[] = [];
      try {
        files = readdirSync(box);
      } catch {
        return [];
      }
      const key = (n: string) => /^(\d+)\.M(\d+)[PK]/.exec(n)!.slice(1).map(Number);
      return files
        .sort((x, y) => key(x)[0]! - key(y)[0]! || key(x)[1]! - key(y)[1]!)
        .map((f) => ({ name: f, text: readFileSync(path.join(box, f), 'latin1') }));
    },
    close,
  };
}
