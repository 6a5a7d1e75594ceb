// Two `hfmail start` processes, each with a real serial port (a socat pty), joined by `hfmail sim channel`
// in real time: mail queued while the radio is silent goes out in priority order once it comes up.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { freePort, GatewayProcess, HFMAIL_BIN } from './support/gateway-process.ts';
import { ptyPair } from './support/pty-pair.ts';
import { RawSmtp } from './support/smtp-client.ts';

const cleanup: (() => void)[] = [];
after(() => {
  for (const c of cleanup.reverse()) c();
});

function hfmail(args: string[], log: string[]): ChildProcess {
  const child = spawn(process.execPath, [HFMAIL_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, HFMAIL_LOG_LEVEL: 'info' } });
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  cleanup.push(() => child.kill('SIGKILL'));
  return child;
}

test('two gateway processes over ptys and a simulated radio: delivered in priority order', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-2proc-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const pa = await ptyPair();
  const pb = await ptyPair();
  cleanup.push(() => pa.close(), () => pb.close());
  writeFileSync(path.join(dir, 'link.key'), 'a key shared by alpha and bravo, 32b');
  const [portA, portB] = [await freePort(), await freePort()];
  const conf = (name: string, peer: string, port: number, tty: string, local: string) =>
    [
      `station: ${name}`,
      `hostname: ${name}.${local}`,
      `listen: 127.0.0.1:${port}`,
      `data: ./${name}`,
      'routes:',
      `  - { domains: [${local}], via: "maildir:./${name}-mail" }`,
      `  - { domains: ["*"], via: "link:${peer}" }`,
      'links:',
      `  - { peer: ${peer}, port: ${tty}, profile: kiss-9600, key: ./link.key }`,
    ].join('\n');
  writeFileSync(path.join(dir, 'alpha.yaml'), conf('alpha', 'bravo', portA, pa.a, 'field.example'));
  writeFileSync(path.join(dir, 'bravo.yaml'), conf('bravo', 'alpha', portB, pb.a, 'base.example'));
  const logs: string[] = [];
  hfmail(['start', '--config', path.join(dir, 'alpha.yaml')], logs);
  hfmail(['start', '--config', path.join(dir, 'bravo.yaml')], logs);
  const probe = new GatewayProcess(portA);
  await probe.waitReady();
  await new GatewayProcess(portB).waitReady();
  probe.removeDir();

  // Queued while the radio is silent, in an order that is not the priority order.
  const c = await RawSmtp.connect(portA);
  await c.ehlo('laptop.field.example');
  for (const [p, tag] of [[-2, 'routine'], [0, 'normal'], [4, 'flash'], [2, 'immediate']] as const) {
    assert.match(await c.cmd(`MAIL FROM:<team@field.example> MT-PRIORITY=${p}`), /^250 /);
    assert.match(await c.cmd('RCPT TO:<ops@base.example>'), /^250 /);
    assert.match(await c.data(`Subject: ${tag}\r\n\r\n${tag} ${'x'.repeat(300)}\r\n`), /^250 /);
  }
  await c.quit();
  hfmail(['sim', 'channel', '--a', pa.b, '--b', pb.b, '--bit-rate', '9600', '--turnaround', '150'], logs);

  const box = path.join(dir, 'bravo-mail', 'new');
  let files: { name: string; subject: string }[] = [];
  for (let i = 0; i < 600 && files.length < 4; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      files = readdirSync(box).map((name) => ({ name, subject: /Subject: (\w+)/.exec(readFileSync(path.join(box, name), 'utf8'))![1]! }));
    } catch {
      // not there yet
    }
  }
  assert.equal(files.length, 4, `delivered ${files.length} of 4; logs:\n${logs.join('').slice(-3000)}`);
  // Maildir names begin with the time of delivery: <seconds>.M<milliseconds>P<pid>...
  const key = (n: string) => /^(\d+)\.M(\d+)[PK]/.exec(n)!.slice(1).map(Number);
  files.sort((x, y) => key(x.name)[0]! - key(y.name)[0]! || key(x.name)[1]! - key(y.name)[1]!);
  assert.deepEqual(files.map((f) => f.subject), ['flash', 'immediate', 'normal', 'routine']);
});
