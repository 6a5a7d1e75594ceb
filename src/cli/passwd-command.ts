import type { Command } from 'commander';
import { userEntry } from '../gateway/index.ts';

export function registerPasswd(program: Command): void {
  program
    .command('passwd')
    .description('hash a password for SMTP AUTH: prints one users: entry for the station file (a YAML flow mapping)')
    .argument('<user>', 'the user name')
    .option('-p, --password <password>', 'the password (visible to other users in the process list: prefer the prompt or stdin)')
    .option('-c, --config <file>', 'station file whose entry for this user lends its other fields (maxPriority)')
    .option('--max-priority <n>', 'the user\'s priority ceiling, -9..9', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < -9 || n > 9) throw new Error(`--max-priority: expected an integer from -9 to 9, got ${v}`);
      return n;
    })
    .action(async (user: string, opts: { password?: string; config?: string; maxPriority?: number }) => {
      const password = opts.password ?? (process.stdin.isTTY ? await promptTwice() : await firstLine());
      if (!password) throw new Error('passwd: empty password');
      const line = await userEntry(user, password, { ...(opts.config ? { configFile: opts.config } : {}), ...(opts.maxPriority !== undefined ? { maxPriority: opts.maxPriority } : {}) });
      process.stderr.write('# put this line under users: in the station file, in place of any older entry for the user\n');
      process.stdout.write(`${line}\n`);
    });
}

/** The first line of a non-interactive stdin (`echo pw | hfmail passwd ops`), without its line end. */
async function firstLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

async function promptTwice(): Promise<string> {
  const first = await prompt('Password: ');
  const again = await prompt('Again: ');
  if (first !== again) throw new Error('passwd: the passwords differ');
  return first;
}

/** Reads a line from the terminal without echoing it. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('passwd: interrupted'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
