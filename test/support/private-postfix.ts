// A private Postfix instance for tests: its own configuration directory, queue and data directories, log file
// and loopback port, started by the test and stopped by it. The system's Postfix (/etc/postfix, its queue, a
// master that may be running) is never read for settings, written or signalled.
//
// What Postfix 3.7 needs for an alternate configuration directory, as found here:
// - `alternate_config_directories` / `multi_instance_directories` in the default main.cf are only consulted for
//   an unprivileged caller (the set-gid postdrop/postqueue path, mail_conf_checkdir()); as root `postfix -c DIR`
//   and `master -c DIR` use DIR without any entry in /etc/postfix/main.cf. postfix-script only reads that file's
//   multi_instance_directories (to decide whether to check shared files), and `postfix -c DIR check` writes
//   nothing outside DIR's queue_directory and data_directory (checked with find -newer on /etc/postfix,
//   /usr/lib/postfix, /var/spool/postfix and /var/lib/postfix).
// - `postfix -c DIR check` runs post-install create-missing, which creates the queue subdirectories owned by the
//   postfix user (maildrop and public with group postdrop) and data_directory, then postsuper.
// - Then this module runs the master itself, `master -c DIR/etc`, as a child process instead of
//   `postfix -c DIR start` (which detaches it) or `start-fg`: without -d/-w the master stays in the foreground as
//   its own process group leader, its PID is the child's (and in DIR/spool/pid/master.pid), and its command line
//   names the private configuration directory, so it cannot be confused with a system master in `ps`. SIGTERM
//   makes it signal its process group and exit, which is what `postfix stop` does too.
// - Postfix's daemons run as the postfix user (and deliveries as nobody, uid 65534), so every component of the
//   instance directory's path must be traversable by other users; the directory itself is made 0755.
// - Postfix must run as root. As root the commands run directly; otherwise through `sudo -n` (as CI does).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './gateway-process.ts';

export interface PrivatePostfixOptions {
  /** Loopback port for its smtpd; a free one when not given (and another one if that is taken meanwhile). */
  port?: number;
  /** Instance directory (created if missing, left in place by stop()); a fresh temporary one when not given. */
  dir?: string;
  /** One recipient address that smtpd refuses at RCPT with 554 5.7.1 (check_recipient_access ... REJECT). */
  rejectAddress?: string;
  /** Keep a temporary instance directory after stop() (also HFMAIL_KEEP=1). */
  keep?: boolean;
}

export interface PrivatePostfix {
  port: number;
  /** The instance directory: etc/ (main.cf, master.cf), spool/, lib/, mail/, postfix.log. */
  dir: string;
  configDir: string;
  /** The catch-all Maildir: every recipient of every domain is delivered here (dir/mail/sink). */
  mailDir: string;
  logFile: string;
  /** The master's PID. */
  pid: number;
  /** Stops the master and its daemons; resolves once they are gone and the port is closed. */
  stop(): Promise<void>;
}

const SEARCH = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin'];
const which = (name: string): string | undefined => SEARCH.map((d) => path.join(d, name)).find((p) => existsSync(p));
const NOBODY = 65534; // Debian's nobody/nogroup: the owner of the Maildir and of every delivery

/** Why Postfix tests cannot run here (not installed), or undefined when they can. */
export function postfixMissing(): string | undefined {
  const postconf = which('postconf');
  if (!postconf || !which('postfix')) return 'Postfix is not installed (no postconf/postfix in PATH, /usr/sbin or /sbin; .ci/run installs it)';
  const daemons = spawnSync(postconf, ['-dh', 'daemon_directory'], { encoding: 'utf8' }).stdout?.trim();
  if (!daemons || !existsSync(path.join(daemons, 'master'))) return `Postfix is not installed completely (no master in ${daemons || 'its daemon_directory'})`;
  return undefined;
}

const asRoot = process.getuid?.() === 0;
/** argv as root: directly when we are root, else through non-interactive sudo. */
const privileged = (argv: string[]): [string, string[]] => (asRoot ? [argv[0]!, argv.slice(1)] : ['sudo', ['-n', ...argv]]);

function runPrivileged(argv: string[], what: string): void {
  const [cmd, args] = privileged(argv);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    throw new Error(`${what} failed (${[cmd, ...args].join(' ')}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`})${asRoot ? '' : ' (Postfix needs root: run the tests as root or with password-less sudo)'}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
}

function mainCf(dir: string, hostname: string, rejectAddress: string | undefined): string {
  const recipients = rejectAddress ? `check_recipient_access inline:{ ${rejectAddress}=REJECT }, permit_mynetworks, reject` : 'permit_mynetworks, reject';
  return [
    '# Written by test/support/private-postfix.ts for one test run; not derived from /etc/postfix.',
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/spool`,
    `data_directory = ${dir}/lib`,
    // A maillog_file outside maillog_file_prefixes makes every postfix command exit 1 without a word.
    `maillog_file = ${dir}/postfix.log`,
    `maillog_file_prefixes = ${dir}`,
    'syslog_name = postfix-hfmail-test',
    `myhostname = ${hostname}`,
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mydestination =',
    'mynetworks = 127.0.0.0/8',
    'relayhost =',
    'alias_maps =',
    'alias_database =',
    'biff = no',
    // The catch-all: every recipient of every domain into one Maildir, dir/mail/sink/, as nobody.
    'virtual_mailbox_domains = static:all',
    `virtual_mailbox_base = ${dir}/mail`,
    'virtual_mailbox_maps = static:sink/',
    `virtual_uid_maps = static:${NOBODY}`,
    `virtual_gid_maps = static:${NOBODY}`,
    'virtual_minimum_uid = 100',
    // virtual_mailbox_limit below message_size_limit would throttle delivery for 60 s.
    'message_size_limit = 52428800',
    'virtual_mailbox_limit = 0',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    `smtpd_recipient_restrictions = ${recipients}`,
    '',
  ].join('\n');
}

function masterCf(port: number): string {
  // One inet service (our smtpd), the unix services a queue needs, nothing chrooted.
  return `# Written by test/support/private-postfix.ts: one smtpd on 127.0.0.1:${port}, no other inet service.
127.0.0.1:${port} inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
virtual    unix  - n n -     - virtual
lmtp       unix  - - n -     - lmtp
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
`;
}

/** Every ancestor of dir must let other users through (Postfix's daemons are not root). */
function checkTraversable(dir: string): void {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    const mode = statSync(p).mode;
    if ((mode & 0o001) === 0)
      throw new Error(`${p} (mode ${(mode & 0o777).toString(8)}) is not traversable by other users; the private Postfix's daemons (postfix, nobody) must reach ${dir}: use another dir or TMPDIR`);
    if (p === path.dirname(p)) return;
  }
}

/** The first line the port answers with, or undefined if nothing listens. */
function banner(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (v: string | undefined) => (s.destroy(), clearTimeout(timer), resolve(v));
    const timer = setTimeout(() => done(got || undefined), 5000);
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('\n')) {
        s.write('QUIT\r\n');
        done(got.split('\r\n')[0]);
      }
    });
    s.once('error', () => done(undefined));
    s.once('close', () => done(got || undefined));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PIDs of live (not zombie) processes in process group pgid; undefined where /proc is not there. */
function processGroup(pgid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function signalGroup(pgid: number, signal: 'TERM' | 'KILL'): void {
  if (asRoot) {
    try {
      process.kill(-pgid, `SIG${signal}`);
    } catch {
      // already gone
    }
  } else spawnSync('sudo', ['-n', 'kill', `-${signal}`, `-${pgid}`], { stdio: 'ignore' });
}

// Masters still running, ended when the process exits or is interrupted. The master is in a session of its own, so
// a Ctrl-C on the terminal does not reach it; SIGKILL leaves it to its -e lifetime.
const live = new Set<() => void>();
let watching = false;
function watchExit(): void {
  if (watching) return;
  watching = true;
  const endAll = () => {
    for (const end of live) end();
    live.clear();
  };
  process.once('exit', endAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(sig, () => {
      endAll();
      // Die of the signal as we would have without this handler, unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
}

/**
 * Starts a private Postfix: a fresh configuration in dir/etc written from scratch, its own queue
 * (dir/spool), data directory (dir/lib) and log (dir/postfix.log), one smtpd on 127.0.0.1:port that accepts
 * mail from loopback for any domain and files every recipient into the Maildir dir/mail/sink.
 */
export async function startPrivatePostfix(opts: PrivatePostfixOptions = {}): Promise<PrivatePostfix> {
  const missing = postfixMissing();
  if (missing) throw new Error(missing);
  const postfix = which('postfix')!;
  const daemons = spawnSync(which('postconf')!, ['-dh', 'daemon_directory'], { encoding: 'utf8' }).stdout.trim();
  const created = !opts.dir;
  const dir = path.resolve(opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'hfmail-postfix-')));
  if (/[\s,]/.test(dir)) throw new Error(`private Postfix directory ${JSON.stringify(dir)}: no spaces or commas (main.cf lists)`);
  mkdirSync(path.join(dir, 'etc'), { recursive: true });
  mkdirSync(path.join(dir, 'spool'), { recursive: true });
  chmodSync(dir, 0o755);
  checkTraversable(dir);
  const configDir = path.join(dir, 'etc');
  const logFile = path.join(dir, 'postfix.log');
  const pidFile = path.join(dir, 'spool', 'pid', 'master.pid');
  runPrivileged(['install', '-d', '-o', String(NOBODY), '-g', String(NOBODY), '-m', '0755', path.join(dir, 'mail')], 'creating the Maildir base');

  const removeDir = () => {
    if (!created || opts.keep || process.env.HFMAIL_KEEP) return;
    if (asRoot) rmSync(dir, { recursive: true, force: true });
    else spawnSync('sudo', ['-n', 'rm', '-rf', '--', dir], { stdio: 'ignore' });
  };

  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no log)';
    }
  };

  let checked = false;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    // A name of its own, so that the greeting tells this instance from anything else that answers on the port.
    const hostname = `pf-${randomBytes(4).toString('hex')}.hfmail.test`;
    writeFileSync(path.join(configDir, 'main.cf'), mainCf(dir, hostname, opts.rejectAddress));
    writeFileSync(path.join(configDir, 'master.cf'), masterCf(port));
    if (!checked) {
      // Creates the queue subdirectories (owned by postfix) and data_directory; reads postfix-files from the
      // shared meta_directory, writes nothing outside dir.
      runPrivileged([postfix, '-c', configDir, 'check'], 'postfix check');
      checked = true;
    }
    // -e: the master exits by itself after an hour even if this process is SIGKILLed before it can stop it.
    const [cmd, args] = privileged([path.join(daemons, 'master'), '-c', configDir, '-e', '3600']);
    const child: ChildProcess = spawn(cmd, args, { stdio: 'ignore' });
    child.unref(); // stop() or the exit and signal handlers below end it; it must not keep the test process alive
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
    child.once('error', (e) => (exited = e.message));

    const end = Date.now() + 30_000;
    let up = false;
    while (!exited && Date.now() < end) {
      const line = await banner(port);
      if (line?.startsWith(`220 ${hostname} `)) {
        up = true;
        break;
      }
      await sleep(100);
    }
    if (!up) {
      if (!exited) child.kill('SIGTERM');
      if (opts.port === undefined && exited && attempt < 3) continue; // the free port was taken meanwhile
      const why = exited ? `the master ended (${exited})` : 'no 220 greeting within 30 s';
      removeDir();
      throw new Error(`private Postfix on 127.0.0.1:${port} did not come up: ${why}; ${logFile}:\n${tail()}`);
    }

    let pid = child.pid!;
    try {
      pid = Number(readFileSync(pidFile, 'utf8').trim()) || pid; // the master itself, also behind sudo
    } catch {
      // the master writes it before it listens; keep the child's PID otherwise
    }
    const onExit = () => signalGroup(pid, 'TERM');
    live.add(onExit); // a test that never reaches stop() still leaves no Postfix behind
    watchExit();

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        live.delete(onExit);
        // SIGTERM to the master, which passes it on to its process group (what `postfix stop` does).
        if (asRoot) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // already gone
          }
        } else spawnSync('sudo', ['-n', 'kill', '-TERM', String(pid)], { stdio: 'ignore' });
        const gone = async (ms: number) => {
          const until = Date.now() + ms;
          for (;;) {
            const procs = processGroup(pid);
            if ((procs === undefined || procs.length === 0) && (await banner(port)) === undefined) return true;
            if (Date.now() > until) return false;
            await sleep(100);
          }
        };
        if (!(await gone(15_000))) {
          signalGroup(pid, 'KILL');
          if (!(await gone(5000))) throw new Error(`private Postfix (master ${pid}, port ${port}) did not stop: ${processGroup(pid)?.join(' ')}`);
        }
        removeDir();
      })());
    return { port, dir, configDir, mailDir: path.join(dir, 'mail', 'sink'), logFile, pid, stop };
  }
}
