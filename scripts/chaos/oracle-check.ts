// The oracle checked against itself: after a run, the same observations are spoiled in ways a broken gateway
// would spoil them (a duplicate, a changed byte, a lost DSN, a lost or repeated relay, an extra DSN block) and each
// must turn up as a failure the untouched observations do not have. A mutation it misses is a blind spot.
import { judge, type Attempt, type Observations } from './oracle.ts';

interface Mutation {
  readonly name: string;
  readonly obs: Observations;
}

function isDsn(content: Buffer): boolean {
  const head = content.subarray(0, Math.max(0, content.indexOf('\r\n\r\n'))).toString('latin1');
  return /^content-type:\s*multipart\/report/im.test(head);
}

/** The X-Chaos-Id a file carries (in its header, or in a DSN's returned header). */
function chaosId(content: Buffer): string | undefined {
  return /^X-Chaos-Id: (\S+)/im.exec(content.toString('latin1'))?.[1];
}

export function mutations(attempts: readonly Attempt[], obs: Observations): Mutation[] {
  const out: Mutation[] = [];
  // Spoil only what accepted messages the oracle found in order left: the rest is not counted, or fails already.
  const failing = judge(attempts, obs).failures.join('\n');
  const accepted = new Set(attempts.filter((a) => a.outcome === 'accepted' && !failing.includes(`${a.id}:`) && !failing.includes(`${a.id} `)).map((a) => a.id));
  const ours = (c: Buffer) => accepted.has(chaosId(c) ?? '');
  const mail = obs.maildirs.findIndex((f) => !isDsn(f.content) && ours(f.content));
  const dsn = obs.maildirs.findIndex((f) => isDsn(f.content) && ours(f.content));
  const peer = obs.peer.findIndex((t) => ours(t.content));
  if (mail >= 0) {
    const f = obs.maildirs[mail]!;
    out.push({ name: `Maildir ${f.station}/${f.box} file delivered twice`, obs: { ...obs, maildirs: [...obs.maildirs, { ...f, name: `${f.name}.dup` }] } });
    const changed = Buffer.from(f.content);
    changed[changed.length - 3] = changed[changed.length - 3]! ^ 0x20;
    out.push({ name: `a byte changed in a Maildir ${f.station}/${f.box} file`, obs: { ...obs, maildirs: obs.maildirs.map((x, i) => (i === mail ? { ...x, content: changed } : x)) } });
    out.push({ name: `a Maildir ${f.station}/${f.box} delivery lost`, obs: { ...obs, maildirs: obs.maildirs.filter((_, i) => i !== mail) } });
  }
  if (dsn >= 0) {
    const f = obs.maildirs[dsn]!;
    out.push({ name: 'a DSN lost', obs: { ...obs, maildirs: obs.maildirs.filter((_, i) => i !== dsn) } });
    out.push({ name: 'a DSN delivered twice', obs: { ...obs, maildirs: [...obs.maildirs, { ...f, name: `${f.name}.dup` }] } });
    // The same report with its recipient's action changed: a wrong DSN.
    const text = f.content.toString('latin1');
    const wrong = text.replace(/^Action: (\w+)/m, (_, a: string) => `Action: ${a === 'failed' ? 'delivered' : 'failed'}`);
    if (wrong !== text) out.push({ name: 'a DSN with the wrong action', obs: { ...obs, maildirs: obs.maildirs.map((x, i) => (i === dsn ? { ...x, content: Buffer.from(wrong, 'latin1') } : x)) } });
  }
  if (peer >= 0) {
    out.push({ name: 'a next-hop delivery lost', obs: { ...obs, peer: obs.peer.filter((_, i) => i !== peer) } });
    out.push({ name: 'a next-hop delivery repeated', obs: { ...obs, peer: [...obs.peer, obs.peer[peer]!] } });
  }
  out.push({ name: 'a station still holding mail', obs: { ...obs, queues: { ...obs.queues, alpha: [{ id: 'X', recipients: [{ address: 'x@y.example', state: 'queued', route: 'link:bravo' }] }] } } });
  return out;
}

/** The mutations the oracle did not notice (empty: it saw every one). */
export function blindSpots(attempts: readonly Attempt[], obs: Observations): string[] {
  const base = new Set(judge(attempts, obs).failures);
  return mutations(attempts, obs)
    .filter((m) => !judge(attempts, m.obs).failures.some((f) => !base.has(f)))
    .map((m) => m.name);
}
