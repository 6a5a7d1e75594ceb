import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { profileSchema, type Profile } from './profile-schema.ts';

export class ProfileError extends Error {
  readonly code = 'profile-invalid';
}

/** Every profile in a folder, by name; a bad file is an error naming the file and the field. */
export function loadProfiles(dir: string): Map<string, Profile> {
  const out = new Map<string, Profile>();
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const file = path.join(dir, f);
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ProfileError(`${file}: not valid YAML: ${(err as Error).message}`);
    }
    const r = profileSchema.safeParse(doc);
    if (!r.success) throw new ProfileError(r.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`).join('\n'));
    if (out.has(r.data.name)) throw new ProfileError(`${file}: name: ${r.data.name} is already defined by another profile`);
    if (path.basename(f).replace(/\.ya?ml$/, '') !== r.data.name) throw new ProfileError(`${file}: name: must match the file name (${r.data.name})`);
    out.set(r.data.name, r.data);
  }
  return out;
}
