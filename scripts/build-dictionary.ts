// Trains the preset dictionary that the bundle codec gives deflate (docs/dictionary.md).
//
//   node --import tsx scripts/build-dictionary.ts <folder of .eml files | mbox> [--size 16384] [--out FILE]
//        [--evaluate]   (train on 80 % of the messages, report sizes on the other 20 %)
//        [--evaluate-sources]   (hold out whole sources instead: every message of a list or sender domain)
//        [--zstd]   (version 2: a zstd dictionary trained by the zstd command on the messages with CRLF line ends,
//                    as they cross the link; --size 112640, --out src/codec/dictionaries/mail-v2.zdict)
//
// Candidates are header lines and header fragments, plus body lines common to many messages (MIME boilerplate).
// Each is scored by how many messages contain it times its length; one-off values (dates, ids, addresses seen
// once) never qualify. The best candidates go last, where deflate's distances are shortest. Deterministic.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, constants, deflateRawSync, gzipSync } from 'node:zlib';

function readCorpus(source: string): { name: string; text: Buffer }[] {
  if (statSync(source).isDirectory()) {
    return readdirSync(source)
      .filter((f) => /\.(eml|txt|msg)$/i.test(f))
      .sort()
      .map((f) => ({ name: f, text: readFileSync(path.join(source, f)) }));
  }
  const mbox = readFileSync(source, 'latin1').split(/\r?\n(?=From )/);
  return mbox.map((m, i) => ({ name: `msg-${i}`, text: Buffer.from(m.replace(/^From [^\n]*\n/, '').replace(/\r?\n/g, '\r\n'), 'latin1') }));
}

/** Strings a message offers as dictionary material, each once per message. */
function candidates(msg: Buffer): Set<string> {
  const text = msg.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4, split + 4 + 20000);
  const out = new Set<string>();
  const fields = head.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  for (const f of fields) {
    const colon = f.indexOf(':');
    if (colon <= 0) continue;
    const name = f.slice(0, colon);
    out.add(`\r\n${name}: `);
    if (f.length <= 120) out.add(`\r\n${f}`);
    // Fragments of long or variable values: each word sequence after the name, up to a few words.
    const words = f.slice(colon + 1).trim().split(/\s+/);
    for (let n = 1; n <= Math.min(6, words.length); n++) out.add(`\r\n${name}: ${words.slice(0, n).join(' ')}`);
    for (let i = 1; i < words.length; i++) for (let n = 2; n <= 4 && i + n <= words.length; n++) out.add(` ${words.slice(i, i + n).join(' ')}`);
  }
  for (const line of body.split('\r\n')) if (line.length >= 8 && line.length <= 100) out.add(`${line}\r\n`);
  return out;
}

/**
 * Header vocabulary of today's mail that a 2002 corpus lacks (DKIM, ARC, TLS in Received lines, Thunderbird,
 * UTF-8 and quoted-printable parts, hfmail's own trace fields). It goes first, so trained material stays nearer.
 */
const GENERIC = [
  'Received: from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.net (Postfix) with ESMTPS id ',
  ' (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256) ',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=; s=; t=; h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type; bh=; b=',
  'ARC-Seal: i=1; a=rsa-sha256; t=; cv=none; d=; s=arc-20240605; b=',
  'ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=; s=arc-20240605; h=',
  'ARC-Authentication-Results: i=1; mx.google.com; dkim=pass header.i=; spf=pass (google.com: domain of ',
  'Authentication-Results: mx.example.net; dkim=pass; spf=pass smtp.mailfrom=; dmarc=pass (p=none dis=none) header.from=',
  'Received-SPF: pass (example.net: domain of designates as permitted sender) client-ip=',
  'Content-Type: multipart/alternative; boundary="------------',
  'Content-Type: multipart/mixed; boundary="',
  'Content-Type: text/plain; charset=UTF-8; format=flowed',
  'Content-Type: text/html; charset=UTF-8',
  'Content-Transfer-Encoding: quoted-printable',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="',
  'User-Agent: Mozilla Thunderbird',
  'Content-Language: en-US',
  'MT-Priority: ',
  'X-Priority: 3 (Normal)',
  'Importance: normal',
  'Thread-Topic: ',
  'Thread-Index: ',
  'In-Reply-To: <',
  'References: <',
  'Message-ID: <',
  'Reply-To: ',
  'Return-Path: <',
  'X-Mailer: Microsoft Outlook 16.0',
  'Date: Mon, Tue, Wed, Thu, Fri, Sat, Sun, Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec 2026 +0000',
  ' with ESMTPSA id ',
  ' PRIORITY 0; ',
  'This is a multi-part message in MIME format.',
].join('\r\n') + '\r\n';

export function train(messages: Buffer[], size: number): Buffer {
  const df = new Map<string, number>();
  for (const m of messages) for (const c of candidates(m)) df.set(c, (df.get(c) ?? 0) + 1);
  const minDf = Math.max(3, Math.ceil(messages.length * 0.02));
  const scored = [...df].filter(([, n]) => n >= minDf).map(([s, n]) => ({ s, score: n * (s.length + 1) }));
  scored.sort((a, b) => b.score - a.score || (a.s < b.s ? -1 : 1));
  const chosen: string[] = [];
  let total = GENERIC.length;
  for (const { s } of scored) {
    if (total + s.length > size) continue;
    if (chosen.some((c) => c.includes(s))) continue; // already covered by a longer string
    chosen.push(s);
    total += s.length;
  }
  // Best last: deflate finds recent material with shorter distance codes.
  return Buffer.from(GENERIC + chosen.reverse().join(''), 'latin1');
}

/**
 * Where a message came from: its mailing list (List-Id or Sender) or else the domain of its From. Holding out
 * whole sources measures the dictionary on mail whose list footers and relays it never saw.
 */
function sourceOf(msg: Buffer): string {
  const head = msg.toString('latin1', 0, Math.min(msg.length, 64 * 1024)).split('\r\n\r\n')[0]!;
  const list = /^(?:List-Id|Sender):[^\r\n]*?([\w.-]+@[\w.-]+|<[^>]+>)/im.exec(head);
  if (list) return list[1]!.toLowerCase().replace(/-(admin|owner|request)@/, '@');
  return /^From:[^\r\n]*@([\w.-]+)/im.exec(head)?.[1]?.toLowerCase() ?? '?';
}

function sizes(m: Buffer, dict: Buffer) {
  return {
    raw: m.length,
    gzip: gzipSync(m, { level: 9 }).length,
    deflate: deflateRawSync(m, { level: 9 }).length,
    deflateDict: deflateRawSync(m, { level: 9, dictionary: dict }).length,
    brotli: brotliCompressSync(m, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: m.length } }).length,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const source = args.find((a) => !a.startsWith('--'));
  if (!source) throw new Error('usage: build-dictionary.ts <folder|mbox> [--size N] [--out FILE] [--evaluate]');
  const opt = (k: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const size = Number(opt('--size') ?? 16384);
  const corpus = readCorpus(source);
  const bySource = args.includes('--evaluate-sources');
  if (bySource || args.includes('--evaluate')) {
    // Deterministic splits: by a hash of the file name (about 20 %), or of the source (about 25 % of them).
    const hash = (s: string) => createHash('sha256').update(s).digest()[0]!;
    const held = bySource ? (m: { text: Buffer }) => hash(sourceOf(m.text)) < 64 : (m: { name: string }) => hash(m.name) < 52;
    const trainSet = corpus.filter((m) => !held(m)).map((m) => m.text);
    const test = corpus.filter((m) => held(m)).map((m) => m.text);
    const dict = train(trainSet, size);
    const rows = test.map((m) => sizes(m, dict));
    const keys = ['raw', 'gzip', 'deflate', 'deflateDict', 'brotli'] as const;
    const best = rows.map((r) => Math.min(r.deflateDict, r.brotli, r.raw));
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const sources = (set: Buffer[]) => new Set(set.map(sourceOf)).size;
    console.log(`trained on ${trainSet.length} messages (${sources(trainSet)} sources), tested on ${test.length} (${sources(test)} sources); dictionary ${dict.length} bytes`);
    for (const k of keys) {
      const v = rows.map((r) => r[k]);
      console.log(`${k.padEnd(12)} mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(0).padStart(7)}  median ${String(median(v)).padStart(7)}`);
    }
    console.log(`${'best-of'.padEnd(12)} mean ${(best.reduce((a, b) => a + b, 0) / best.length).toFixed(0).padStart(7)}  median ${String(median(best)).padStart(7)}`);
    return;
  }
  if (args.includes('--zstd')) return trainZstd(corpus, Number(opt('--size') ?? 112640), opt('--out') ?? 'src/codec/dictionaries/mail-v2.zdict');
  const out = opt('--out') ?? 'src/codec/dictionaries/mail-v1.bin';
  const dict = train(corpus.map((m) => m.text), size);
  writeFileSync(out, dict);
  console.log(`wrote ${out}: ${dict.length} bytes from ${corpus.length} messages (sha256 ${createHash('sha256').update(dict).digest('hex').slice(0, 16)})`);
}

/**
 * zstd's own trainer (COVER) on the messages as they travel: CRLF line ends, in file-name order. The zstd command
 * (Debian package zstd) is deterministic for the same inputs and version; docs/dictionary.md records the hash.
 */
function trainZstd(corpus: { name: string; text: Buffer }[], size: number, out: string): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hfmail-dict-'));
  try {
    const files = corpus.map((m, i) => {
      const file = path.join(dir, `${String(i).padStart(5, '0')}.eml`);
      writeFileSync(file, Buffer.from(m.text.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
      return file;
    });
    execFileSync('zstd', ['--train', '-q', `--maxdict=${size}`, '-o', out, '-f', ...files], { stdio: ['ignore', 'inherit', 'inherit'] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const dict = readFileSync(out);
  console.log(`wrote ${out}: ${dict.length} bytes from ${corpus.length} messages (sha256 ${createHash('sha256').update(dict).digest('hex').slice(0, 16)})`);
}

main();
