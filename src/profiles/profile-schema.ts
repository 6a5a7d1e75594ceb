import { z } from 'zod';

/** What a modem or TNC family is like (firmware-profiles/README.md). */
export const profileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and "-"'),
    description: z.string().default(''),
    serial: z
      .object({
        baudRate: z.number().int().positive(),
        dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
        parity: z.enum(['none', 'even', 'odd']).default('none'),
        stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
        flowControl: z.enum(['none', 'rtscts', 'xonxoff']).default('none'),
      })
      .strict()
      .optional(),
    /** No longer read: the modem's address is the link's (links[].port: tcp://HOST:PORT), so one profile serves every station. */
    tcp: z.unknown().optional(),
    framing: z.enum(['kiss', 'raw']),
    /**
     * What the modem puts on the air for each frame: `bytes`, the bytes as written (a raw modem); `hdlc`, a KISS
     * TNC's HDLC frame (flags, CRC-16, bit stuffing, TXDELAY per key-up and TXTAIL), src/link/air-time.ts.
     */
    airFraming: z.enum(['bytes', 'hdlc']).default('bytes'),
    /** The TNC sends FX.25 with this many check bytes per block (Direwolf -X 16): frames are sized to fit a block. */
    fx25: z.union([z.literal(16), z.literal(32), z.literal(64)]).optional(),
    kiss: z
      .object({
        port: z.number().int().min(0).max(15).default(0),
        txDelayMs: z.number().int().min(0).max(2550),
        persistence: z.number().int().min(0).max(255),
        slotTimeMs: z.number().int().min(0).max(2550),
        txTailMs: z.number().int().min(0).max(2550).default(0),
        fullDuplex: z.boolean().default(false),
      })
      .strict()
      .optional(),
    onAirBitRate: z.number().positive(),
    bitsPerByte: z.number().int().min(8).max(12).default(8),
    duplex: z.enum(['half', 'full']),
    turnaroundMs: z.number().min(0).max(60_000),
    latencyMs: z.number().min(0).max(60_000).optional(),
    maxFrameBytes: z.number().int().min(32).max(4096),
    window: z.number().int().min(1).max(512),
    maxOverS: z.number().positive().max(600),
    /**
     * Airtime handed to the modem ahead of the air, seconds (default: one frame). A TNC that ends its transmission
     * whenever its queue runs dry (Direwolf generates the audio ahead) gets whole overs: maxOverS.
     */
    txAheadS: z.number().min(0).max(600).optional(),
    arq: z.enum(['hfmail', 'modem']),
    /**
     * Whether the licence the modem is used under allows encrypted traffic: amateur radio forbids messages whose
     * meaning is hidden (ITU RR 25.2A; e.g. 47 CFR 97.113(a)(4)), so unless a profile says `allowed` a link on it
     * authenticates its frames and never encrypts them (links[].encrypt is refused).
     */
    encryption: z.enum(['forbidden', 'allowed']).default('forbidden'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.tcp !== undefined) ctx.addIssue({ code: 'custom', path: ['tcp'], message: "the modem's address goes in the station's links[].port as tcp://HOST:PORT" });
    if (p.fx25 !== undefined && p.airFraming !== 'hdlc') ctx.addIssue({ code: 'custom', path: ['fx25'], message: 'FX.25 needs airFraming: hdlc' });
    if (p.framing === 'kiss' && !p.kiss) ctx.addIssue({ code: 'custom', path: ['kiss'], message: 'KISS framing needs the kiss parameters' });
  });

export type Profile = z.infer<typeof profileSchema>;
