import type Database from 'better-sqlite3';
import { storageFault } from '../core/index.ts';

/**
 * What the radio link keeps across restarts (the link's ProgressStore, implemented here): the bundle bytes a
 * transfer is made of (so a resumed transfer sends the same bytes), how much the peer acknowledged, the prefix
 * received from the peer, and the ids already taken (duplicate suppression).
 */
export class LinkState {
  private readonly s: Record<string, Database.Statement>;

  constructor(db: Database.Database) {
    this.s = {
      bundle: db.prepare('SELECT bundle, session_bound AS bound FROM link_bundles WHERE peer = ? AND id = ?'),
      replaceBundle: db.prepare(
        'INSERT INTO link_bundles (peer, id, bundle, made_at, session_bound) VALUES (?, ?, ?, ?, ?) ON CONFLICT (peer, id) DO UPDATE SET bundle = excluded.bundle, made_at = excluded.made_at, session_bound = excluded.session_bound, sent_offset = 0',
      ),
      putBundle: db.prepare('INSERT OR IGNORE INTO link_bundles (peer, id, bundle, made_at) VALUES (?, ?, ?, ?)'),
      madeAt: db.prepare('SELECT made_at AS t FROM link_bundles WHERE peer = ? AND id = ?'),
      sent: db.prepare('SELECT sent_offset AS n FROM link_bundles WHERE peer = ? AND id = ?'),
      setSent: db.prepare('UPDATE link_bundles SET sent_offset = ? WHERE peer = ? AND id = ?'),
      partial: db.prepare('SELECT offset, data FROM link_received WHERE peer = ? AND id = ? ORDER BY offset'),
      appendPartial: db.prepare('INSERT OR REPLACE INTO link_received (peer, id, offset, data) VALUES (?, ?, ?, ?)'),
      delivered: db.prepare('SELECT 1 AS y FROM link_delivered WHERE peer = ? AND id = ?'),
      markDelivered: db.prepare('INSERT OR IGNORE INTO link_delivered (peer, id, at) VALUES (?, ?, ?)'),
      dropPartial: db.prepare('DELETE FROM link_received WHERE peer = ? AND id = ?'),
      dropBundle: db.prepare('DELETE FROM link_bundles WHERE peer = ? AND id = ?'),
    };
  }

  /**
   * The bundle made for a message the first time it was offered, or the one `make` makes now (at `madeAt`),
   * stored. A bundle kept from a session's history (`sessionBound`) is never returned: it is made again.
   */
  bundle(peer: string, id: string, make: () => Uint8Array, madeAt: number): Uint8Array {
    const row = this.s.bundle!.get(peer, id) as { bundle: Buffer; bound: number } | undefined;
    if (row && !row.bound) return row.bundle;
    const b = make();
    this.keep(() => (row ? this.s.replaceBundle!.run(peer, id, Buffer.from(b), Math.floor(madeAt), 0) : this.s.putBundle!.run(peer, id, Buffer.from(b), Math.floor(madeAt))));
    return b;
  }

  /**
   * A bundle made now against a session's history: it replaces whatever was kept (and its progress), and is kept
   * only as the record that the message went on the air, and when; it is never sent again in another session.
   */
  sessionBundle(peer: string, id: string, b: Uint8Array, madeAt: number): void {
    this.keep(() => this.s.replaceBundle!.run(peer, id, Buffer.from(b), Math.floor(madeAt), 1));
  }

  /**
   * A full disk: the bundle goes out from memory. After a restart a new one is made; the receiver's hash check
   * then sends the transfer back to 0, so nothing wrong is taken, only some airtime spent again.
   */
  private keep(write: () => unknown): void {
    try {
      write();
    } catch (err) {
      if (!storageFault(err)) throw err;
    }
  }

  /** When the stored bundle was made (its deadlines count from then), if one is stored. */
  madeAt(peer: string, id: string): number | undefined {
    return (this.s.madeAt!.get(peer, id) as { t: number | null } | undefined)?.t ?? undefined;
  }

  sentOffset(peer: string, id: string): number {
    return (this.s.sent!.get(peer, id) as { n: number } | undefined)?.n ?? 0;
  }
  setSentOffset(peer: string, id: string, offset: number): void {
    this.s.setSent!.run(offset, peer, id);
  }
  received(peer: string, id: string): Uint8Array | undefined {
    const rows = this.s.partial!.all(peer, id) as { offset: number; data: Buffer }[];
    if (!rows.length) return undefined;
    // Pieces are contiguous from 0 by construction; stop at a hole rather than trust one.
    const pieces: Buffer[] = [];
    let at = 0;
    for (const r of rows) {
      if (r.offset !== at) break;
      pieces.push(r.data);
      at += r.data.length;
    }
    return Buffer.concat(pieces);
  }
  appendReceived(peer: string, id: string, offset: number, data: Uint8Array): void {
    this.s.appendPartial!.run(peer, id, offset, Buffer.from(data)); // offset: the length saved so far (contracts.ts)
  }
  isDelivered(peer: string, id: string): boolean {
    return this.s.delivered!.get(peer, id) !== undefined;
  }
  markDelivered(peer: string, id: string, at = Date.now()): void {
    this.s.markDelivered!.run(peer, id, Math.floor(at)); // an audit time, not a protocol one
    this.s.dropPartial!.run(peer, id);
  }
  forget(peer: string, id: string): void {
    this.s.dropPartial!.run(peer, id);
    this.s.dropBundle!.run(peer, id);
  }
}
