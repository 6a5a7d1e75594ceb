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
    tcp: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict().optional(),
    framing: z.enum(['kiss', 'raw']),
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
    arq: z.enum(['hfmail', 'modem']),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (!p.serial === !p.tcp) ctx.addIssue({ code: 'custom', path: ['serial'], message: 'give exactly one of serial or tcp' });
    if (p.framing === 'kiss' && !p.kiss) ctx.addIssue({ code: 'custom', path: ['kiss'], message: 'KISS framing needs the kiss parameters' });
  });

export type Profile = z.infer<typeof profileSchema>;
