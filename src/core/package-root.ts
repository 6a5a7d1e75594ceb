import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The folder holding hfmail's package.json. Assets (firmware profiles, dictionaries, sim scenarios) are found
 * from here, so the same lookup works from the TypeScript sources (src/...) and from the built bundle (dist/).
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`hfmail's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return (root = dir);
}
