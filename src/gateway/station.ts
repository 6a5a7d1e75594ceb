import path from 'node:path';
import { loadConfig, type Config } from './config.ts';

export interface StationSettings {
  readonly config: Config;
  /** Folder that relative paths in the config are resolved against. */
  readonly baseDir: string;
}

/**
 * The station's configuration after command-line overrides: flags are relative to the working directory,
 * paths inside a config file to the file's own folder.
 */
export function stationSettings(opts: { config?: string; listen?: string; data?: string }): StationSettings {
  const config = loadConfig(opts.config);
  const baseDir = opts.config ? path.dirname(path.resolve(opts.config)) : process.cwd();
  return {
    baseDir,
    config: {
      ...config,
      ...(opts.listen ? { listen: opts.listen } : {}),
      ...(opts.data ? { data: path.resolve(opts.data) } : {}),
    },
  };
}
