import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../core/index.ts';
import { DEFAULT_BANDS, POLICY_LEVELS } from '../mail/index.ts';
import { passwordHashProblem } from './passwords.ts';
import { isLoopbackHost } from './web-auth.ts';

/** `host:port`, with IPv6 hosts in brackets; port 0 asks the system for any free port (tests). */
const hostPort = z
  .string()
  .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:2525')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, 'the port must be from 1 to 65535 (or 0 for any free port)');

const MIB = 1024 * 1024;

const cidr = z.string().refine((s) => {
  const [addr, bits, ...rest] = s.split('/');
  const family = isIP(addr ?? '');
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}, 'expected an IP address or network such as 127.0.0.0/8 or ::1');

const mtPriority = z.number().int().min(-9).max(9);

/** A link's modem: a serial device path, or tcp://HOST:PORT (IPv6 hosts in brackets). */
const linkPort = z
  .string()
  .min(1)
  .refine((s) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(s) || parseTcpPort(s) !== undefined, 'expected a serial device such as /dev/ttyUSB0, or tcp://HOST:PORT such as tcp://127.0.0.1:8001');

/** links[].tnc: `setup` sends the profile's KISS parameters when the port opens; `keep` sends none, leaving the TNC's own. */
const tnc = z.enum(['setup', 'keep']).default('setup');

/** The host and port of a `tcp://HOST:PORT` link port; undefined for anything else (a serial device). */
export function parseTcpPort(s: string): { host: string; port: number } | undefined {
  const m = /^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * An SMTP AUTH user. `hash` is what `hfmail passwd` prints; a plain `password` is refused with the command to run,
 * so a station file never holds a password that a stolen laptop would give away.
 */
const user = z
  .object({ name: z.string().min(1), hash: z.string().optional(), password: z.unknown().optional(), maxPriority: mtPriority.default(9) })
  .strict()
  .superRefine((u, ctx) => {
    if (u.password !== undefined)
      ctx.addIssue({ code: 'custom', path: ['password'], message: `user "${u.name}": plain-text passwords are not accepted; run \`hfmail passwd ${u.name}\` and put the line it prints in place of this entry` });
    else if (u.hash === undefined) ctx.addIssue({ code: 'custom', path: ['hash'], message: `user "${u.name}" has no hash; run \`hfmail passwd ${u.name}\`` });
    else {
      const problem = passwordHashProblem(u.hash);
      if (problem) ctx.addIssue({ code: 'custom', path: ['hash'], message: `user "${u.name}": ${problem}` });
    }
  })
  .transform(({ name, hash, maxPriority }) => ({ name, hash: hash ?? '', maxPriority }));

/** `via` of a route: where mail for the domains goes (design.md section 7). */
export const VIA = /^(?:maildir:.+|lmtp:\/\/[^/\s]+:(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})|smtp:\/\/[^/\s]+:(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})|mx|link:[A-Za-z0-9_-]+)$/;

const band = z.object({ from: z.number().int().min(-99).max(99), to: z.number().int().min(-99).max(99), value: mtPriority });

export const configSchema = z
  .object({
    station: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "-" and "_", at most 32').default('alpha'),
    /** Name in the greeting, EHLO and Received lines; defaults to the station id. */
    hostname: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a host name').optional(),
    listen: hostPort.default('127.0.0.1:2525'),
    data: z.string().min(1).default('./hfmail-data'),
    /** Networks that may relay and raise priority without AUTH. */
    trusted: z.array(cidr).default(['127.0.0.0/8', '::1']),
    /** Highest priority a trusted network may ask for. */
    trustedMaxPriority: mtPriority.default(9),
    /** Pause before greeting a client outside `trusted`, to catch bulk senders that talk first; 0 greets at once. */
    earlyTalkerPauseMs: z.number().int().min(0).max(10_000).default(100),
    users: z.array(user).default([]),
    /** SMTP AUTH policy: only over TLS unless clear text is allowed for loopback clients; failures slow and then stop a client. */
    auth: z
      .object({
        /** Accept AUTH without STARTTLS from 127.0.0.0/8 and ::1 (a local submission agent); never from elsewhere. */
        allowPlaintextOnLoopback: z.boolean().default(false),
        /** Failed AUTHs from one client address within `failureWindowS` before AUTH is refused with 454 4.7.0. */
        maxFailures: z.number().int().min(1).default(10),
        failureWindowS: z.number().int().min(1).default(900),
        /** Each failure is answered after 1 s, doubling per failure of that client, up to this. */
        maxDelayS: z.number().min(0).max(300).default(30),
      })
      .strict()
      .default({ allowPlaintextOnLoopback: false, maxFailures: 10, failureWindowS: 900, maxDelayS: 30 }),
    tls: z.object({ key: z.string().min(1), cert: z.string().min(1) }).strict().optional(),
    priority: z
      .object({
        policy: z.enum(Object.keys(POLICY_LEVELS) as [keyof typeof POLICY_LEVELS]).default('MIXER'),
        /** Advertise the draft keyword PRIORITY (-99..+99) beside MT-PRIORITY. */
        draftKeyword: z.boolean().default(true),
        bands: z.array(band).default([...DEFAULT_BANDS]),
        /** Congestion mode: refuse priorities below this with 450 4.7.15 (RFC 6710 4.1). */
        minAccepted: mtPriority.default(-9),
        /** Largest message per policy level, in bytes (RFC 6710 section 5, 552 5.7.16). */
        maxSize: z.record(z.string().regex(/^-?\d$/, 'a priority level from -9 to 9'), z.number().int().positive()).default({}),
        /** Names for levels, for people (e.g. "dod.flash"); never on the wire. */
        labels: z.record(z.string().regex(/^-?\d$/, 'a priority level from -9 to 9'), z.string()).default({}),
      })
      .strict()
      .default({ policy: 'MIXER', draftKeyword: true, bands: [...DEFAULT_BANDS], minAccepted: -9, maxSize: {}, labels: {} }),
    deliverBy: z.object({ min: z.number().int().min(0).max(999_999_999).default(60) }).strict().default({ min: 60 }),
    limits: z
      .object({
        maxMessageSize: z.number().int().positive().default(DEFAULT_MAX_MESSAGE_BYTES),
        maxRecipients: z.number().int().min(1).default(100),
        /** RFC 5321 6.3: a message with more Received lines than this is a loop (5.4.6). */
        maxReceived: z.number().int().min(1).default(100),
        /** SMTP connections at once, in total and from one client address (more get 421 4.7.0). */
        maxConnections: z.number().int().min(1).default(200),
        maxConnectionsPerClient: z.number().int().min(1).default(20),
        /** DATA bytes held in memory across all sessions; a message that would pass it gets 452 4.3.1. */
        maxDataBytesInMemory: z.number().int().min(1).default(64 * MIB),
      })
      .strict()
      .default({ maxMessageSize: DEFAULT_MAX_MESSAGE_BYTES, maxRecipients: 100, maxReceived: 100, maxConnections: 200, maxConnectionsPerClient: 20, maxDataBytesInMemory: 64 * MIB }),
    /** Free space the data folder's disk must keep: below it, MAIL gets 452 4.3.1 before the disk is full. */
    queue: z
      .object({ minFreeBytes: z.number().int().min(0).default(50 * MIB) })
      .strict()
      .default({ minFreeBytes: 50 * MIB }),
    /**
     * Where mail to postmaster (bare, or at a local domain or our host name) goes: an address with a route. Without
     * it, the first maildir: or lmtp:// route, else a Maildir `postmaster` in the data folder.
     */
    postmaster: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'expected an address such as ops@field.example').optional(),
    routes: z
      .array(
        z
          .object({
            domains: z.array(z.string().min(1)).min(1),
            via: z.string().regex(VIA, 'expected maildir:PATH, lmtp://HOST:PORT, smtp://HOST:PORT, mx or link:PEER'),
          })
          .strict(),
      )
      .default([{ domains: ['*'], via: 'link:bravo' }]),
    relay: z
      .object({
        retryBaseS: z.number().positive().default(60),
        retryMaxS: z.number().positive().default(3600),
        giveUpS: z.number().positive().default(5 * 86400),
        /** ALTRECIP: temporary failures for this long redirect to the alternate recipient. */
        altRecipWindowS: z.number().positive().default(1800),
        connectTimeoutS: z.number().positive().default(30),
        commandTimeoutS: z.number().positive().default(300),
        starttls: z.enum(['off', 'opportunistic', 'required']).default('opportunistic'),
        /** Resolvers for MX lookups (the system's when empty), e.g. ["192.0.2.53", "[2001:db8::53]:53"]. */
        dnsServers: z.array(z.string().min(1)).default([]),
        dnsTimeoutS: z.number().positive().default(10),
        /** Delivery sessions at once, and at most this many to one destination (a slow host never blocks the others). */
        maxSessions: z.number().int().min(1).max(256).default(8),
        maxSessionsPerDestination: z.number().int().min(1).max(64).default(2),
      })
      .strict()
      .default({ retryBaseS: 60, retryMaxS: 3600, giveUpS: 5 * 86400, altRecipWindowS: 1800, connectTimeoutS: 30, commandTimeoutS: 300, starttls: 'opportunistic', dnsServers: [], dnsTimeoutS: 10, maxSessions: 8, maxSessionsPerDestination: 2 }),
    /**
     * Finished messages (every recipient delivered, failed or redirected) are purged this many days after their
     * last outcome; held, queued and corrupt ones never are. The link's record of what it took stays.
     */
    retention: z
      .object({ deliveredDays: z.number().min(0).max(36_500).default(7) })
      .strict()
      .default({ deliveredDays: 7 }),
    /**
     * Radio links: the peer station, where its modem is (a serial device, or tcp://HOST:PORT for a KISS TNC or
     * modem on TCP), a firmware profile, the pre-shared key file, and whether the TNC's own KISS settings are kept.
     */
    links: z
      .array(z.object({ peer: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a station id'), port: linkPort, profile: z.string(), tnc, key: z.union([z.string(), z.array(z.string()).min(1).max(2)]).optional(), encrypt: z.boolean().optional() }).strict())
      .default([]),
    /** A folder of firmware profiles that add to the shipped ones, or replace those of the same name. */
    profiles: z.string().optional(),
    /**
     * The web console and /metrics (HOST:PORT, off when absent). Off loopback only when `users` exist, and then
     * every request needs one of them (HTTP Basic).
     */
    web: hostPort.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // A console anyone on the network could drive needs passwords: the SMTP users' own.
    if (cfg.web !== undefined && !isLoopbackHost(cfg.web.slice(0, cfg.web.lastIndexOf(':'))) && cfg.users.length === 0)
      ctx.addIssue({ code: 'custom', path: ['web'], message: `${cfg.web} is not a loopback address: the console would be open to the network; add users (hfmail passwd) so it asks for a password, or use 127.0.0.1:PORT` });
    // A size cap must name a level the policy has (RFC 6710 section 5), or it would silently never apply.
    const levels: readonly number[] = POLICY_LEVELS[cfg.priority.policy];
    for (const key of Object.keys(cfg.priority.maxSize))
      if (!levels.includes(Number(key)))
        ctx.addIssue({ code: 'custom', path: ['priority', 'maxSize', key], message: `not a level of policy ${cfg.priority.policy}; levels are ${levels.join(', ')}` });
    // Every draft PRIORITY value must fall in exactly one band.
    for (let v = -99; v <= 99; v++) {
      const n = cfg.priority.bands.filter((b) => v >= b.from && v <= b.to).length;
      if (n !== 1) {
        ctx.addIssue({ code: 'custom', path: ['priority', 'bands'], message: `draft priority ${v} is in ${n} bands; the bands must cover -99..99 once` });
        return;
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
