import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Two linked pseudo-terminals from socat, as a null-modem cable between two serial ports. */
export async function ptyPair(): Promise<{ a: string; b: string; close(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-pty-'));
  const a = path.join(dir, 'ttyA');
  const b = path.join(dir, 'ttyB');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(a) || !existsSync(b)) {
    child.kill();
    throw new Error('socat did not create the pty pair');
  }
  return {
    a,
    b,
    close() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
