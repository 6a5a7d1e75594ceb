import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, GatewayProcess, HFMAIL_BIN } from './gateway-process.ts';
import { ptyPair } from './pty-pair.ts';

/**
 * Two `hfmail start` processes, alpha (field.example) and bravo (base.example), each on its own socat pty,
 * and `hfmail sim channel` between the far ends once `radio()` is called. Everything is killed by `close()`.
 */
export async function stationPair(channelArgs: string[]) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-pair-'));
  const pa = await ptyPair();
  const pb = await ptyPair();
  writeFileSync(path.join(dir, 'link.key'), 'a key shared by alpha and bravo, 32b');
  const ports = { alpha: await freePort(), bravo: await freePort() };
  const conf = (name: 'alpha' | 'bravo', peer: string, tty: string, local: string) =>
    [
      `station: ${name}`,
      `hostname: ${name}.${local}`,
      `listen: 127.0.0.1:${ports[name]}`,
      `data: ./${name}`,
      'routes:',
      `  - { domains: [${local}], via: "maildir:./${name}-mail" }`,
      `  - { domains: ["*"], via: "link:${peer}" }`,
      'links:',
      `  - { peer: ${peer}, port: ${tty}, profile: kiss-9600, key: ./link.key }`,
    ].join('\n');
  writeFileSync(path.join(dir, 'alpha.yaml'), conf('alpha', 'bravo', pa.a, 'field.example'));
  writeFileSync(path.join(dir, 'bravo.yaml'), conf('bravo', 'alpha', pb.a, 'base.example'));
  const log: string[] = [];
  const children = new Map<string, ChildProcess>();
  const spawnHfmail = (name: string, args: string[]) => {
    const child = spawn(process.execPath, [HFMAIL_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HFMAIL_LOG_LEVEL: 'info' } });
    child.stderr!.on('data', (d: Buffer) => log.push(`[${name}] ${d}`));
    children.set(name, child);
    return child;
  };
  const start = async (name: 'alpha' | 'bravo') => {
    spawnHfmail(name, ['start', '--config', path.join(dir, `${name}.yaml`)]);
    const probe = new GatewayProcess(ports[name]);
    await probe.waitReady();
    probe.removeDir();
  };
  const kill = async (name: 'alpha' | 'bravo') => {
    const c = children.get(name);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  await start('alpha');
  await start('bravo');
  return {
    dir,
    ports,
    log,
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
    close() {
      for (const c of children.values()) c.kill('SIGKILL');
      pa.close();
      pb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
