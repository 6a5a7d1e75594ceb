// Bundles the CLI (src/cli/main.ts and everything it imports, sim/ included) into one ES module, dist/hfmail.js,
// so the gateway runs as plain JavaScript: no TypeScript loader in memory and none of its start-up cost.
// npm packages stay external (native addons among them). Run by `npm ci` (prepare), `npm test` and `npm start`.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/hfmail.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  legalComments: 'none',
});
