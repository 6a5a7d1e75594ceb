// Bundles the CLI (src/cli/main.ts and everything it imports, sim/ and the pure-JavaScript npm packages included)
// into one ES module, dist/hfmail.js, so the gateway runs as plain JavaScript: no TypeScript loader in memory,
// none of its start-up cost, and one module to load instead of hundreds (~6 MB less resident at rest).
// Packages with native addons stay external, and so does pino (its transports load files by path in workers).
// Run by `npm ci` (prepare), `npm test` and `npm start`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/hfmail.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['better-sqlite3', 'serialport', '@serialport/*', 'cbor-extract', 'pino', 'pino-pretty', 'tsx', 'esbuild', 'zstd-napi'],
  // CommonJS packages inside an ES module bundle still call require() for Node's own modules.
  banner: { js: "import { createRequire as __hfmailRequire } from 'node:module'; const require = __hfmailRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
});
