import { encodeKiss, KissCommand } from '../codec/kiss.ts';

/** A TNC's KISS parameters, as a profile gives them. */
export interface KissParams {
  readonly port: number;
  readonly txDelayMs: number;
  readonly persistence: number;
  readonly slotTimeMs: number;
  readonly txTailMs: number;
  readonly fullDuplex: boolean;
}

/** The KISS commands that configure a TNC when the port opens (TXDELAY, SLOTTIME and TXTAIL in 10 ms units). */
export function kissSetup(k: KissParams): Uint8Array[] {
  const cmd = (c: number, v: number) => encodeKiss(Uint8Array.of(Math.max(0, Math.min(255, Math.round(v)))), c, k.port);
  return [
    cmd(KissCommand.TXDELAY, k.txDelayMs / 10),
    cmd(KissCommand.PERSISTENCE, k.persistence),
    cmd(KissCommand.SLOTTIME, k.slotTimeMs / 10),
    cmd(KissCommand.TXTAIL, k.txTailMs / 10),
    cmd(KissCommand.FULLDUPLEX, k.fullDuplex ? 1 : 0),
  ];
}
