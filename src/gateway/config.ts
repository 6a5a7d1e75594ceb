import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './config-schema.ts';

export type { Config } from './config-schema.ts';

/** A configuration problem, worded for the person who edits the file: which file, which key, what is wrong. */
export class ConfigError extends Error {
  readonly code = 'config-invalid';
}

/** Loads a station file; with no file, the embedded defaults make a working gateway. */
export function loadConfig(file?: string): Config {
  if (file === undefined) return configSchema.parse({});
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  return validateConfig(doc, file);
}

export function validateConfig(doc: unknown, file = '<config>'): Config {
  const result = configSchema.safeParse(doc);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const at = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k));
      return `${file}: ${keys.join(', ')}: unknown key (misspelt or misplaced?)`;
    }
    return `${file}: ${at || '(top level)'}: ${issue.message}`;
  });
  throw new ConfigError(lines.join('\n'));
}
