import { CONTEXT_BYTES, MAX_EXCLUDED_SLOTS, SUPPORTED_DICTIONARY_VERSIONS, type BundleContext } from '../codec/index.ts';

/** Streams are inflated for the history only from bundles already checked (ours, or taken by the sink): no limit applies. */
export const STREAM_LIMITS = { maxContent: Number.MAX_SAFE_INTEGER, maxRecipients: Number.MAX_SAFE_INTEGER, dictionaries: SUPPORTED_DICTIONARY_VERSIONS };

/** Slots kept beyond what the newest bundle needs, for bundles made earlier that are still on the way. */
const KEEP_BYTES = 4 * CONTEXT_BYTES;

/**
 * One direction's shared compression history in a session (docs/protocol.md, "Session context"): the streams
 * of the bundles the receiver took into custody, by the slot its CUSTODY gave each. A bundle names slots
 * 1..count less some excluded ones; both ends take the last CONTEXT_BYTES of those streams in slot order, so the
 * sender compresses only against messages the peer holds, and the receiver rebuilds the same bytes. Only the
 * tail of a stream that a history can reach is kept, and old slots go once newer ones cover the window.
 */
export class SessionHistory {
  private readonly slots = new Map<number, Uint8Array>();
  private held = 0;
  private lastSlot = 0;

  /** Slot numbers this side gave (receiver side): the next one. */
  nextSlot(): number {
    return ++this.lastSlot;
  }

  /** A slot's stream, as both ends know it once the peer confirmed custody. */
  add(slot: number, stream: Uint8Array): void {
    if (slot <= 0 || this.slots.has(slot)) return;
    const tail = stream.length > CONTEXT_BYTES ? stream.subarray(stream.length - CONTEXT_BYTES) : stream;
    this.slots.set(slot, tail);
    this.held += tail.length;
    this.lastSlot = Math.max(this.lastSlot, slot);
    if (this.held > KEEP_BYTES) this.evict();
  }

  /**
   * The sender's context for a new bundle: up to the highest slot it knows, leaving out the slots it does not
   * hold (a CUSTODY not heard yet); undefined when there is nothing to compress against.
   */
  offer(): BundleContext | undefined {
    let count = 0;
    for (const s of this.slots.keys()) count = Math.max(count, s);
    if (count === 0) return undefined;
    const excluded: number[] = [];
    const parts: Uint8Array[] = [];
    let bytes = 0;
    for (let s = count; s > 0 && bytes < CONTEXT_BYTES; s--) {
      const stream = this.slots.get(s);
      if (stream) {
        parts.push(stream);
        bytes += stream.length;
      } else if (excluded.push(s) > MAX_EXCLUDED_SLOTS) return undefined;
    }
    return { count, excluded: excluded.reverse(), history: tailOf(parts.reverse(), bytes) };
  }

  /** The receiver's side of `offer`: the same bytes, or undefined when a slot it needs is not held here. */
  resolve(count: number, excluded: readonly number[]): Uint8Array | undefined {
    const skip = new Set(excluded);
    const parts: Uint8Array[] = [];
    let bytes = 0;
    for (let s = count; s > 0 && bytes < CONTEXT_BYTES; s--) {
      if (skip.has(s)) continue;
      const stream = this.slots.get(s);
      if (!stream) return undefined;
      parts.push(stream);
      bytes += stream.length;
    }
    return tailOf(parts.reverse(), bytes);
  }

  /** A new session: slots start again from 1. */
  reset(): void {
    this.slots.clear();
    this.held = 0;
    this.lastSlot = 0;
  }

  private evict(): void {
    for (const s of [...this.slots.keys()].sort((a, b) => a - b)) {
      if (this.held <= KEEP_BYTES) return;
      this.held -= this.slots.get(s)!.length;
      this.slots.delete(s);
    }
  }
}

function tailOf(parts: Uint8Array[], bytes: number): Uint8Array {
  const all = Buffer.concat(parts, bytes);
  return all.length > CONTEXT_BYTES ? all.subarray(all.length - CONTEXT_BYTES) : all;
}
