import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { LINK_KEY_BYTES, writeLinkKey } from '../gateway/index.ts';

/** `hfmail keygen`: a fresh pre-shared key for a radio link (links[].key), the same file on both stations. */
export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description(`make a fresh link key (${LINK_KEY_BYTES} random bytes) for links[].key; the same file goes to both stations`)
    .option('-o, --out <file>', 'write the key to this file (mode 0600); without it the key is printed as hex')
    .option('-f, --force', 'replace an existing file')
    .addHelpText('after', '\nKey change without downtime: list both files, links[].key: [./old.key, ./new.key], on each station in turn,\nthen put the new one first, then drop the old one (docs/security.md).')
    .action((opts: { out?: string; force?: boolean }) => {
      if (!opts.out) {
        process.stderr.write('# a link key in hex: save it, byte for byte, in the key file of both stations\n');
        process.stdout.write(`${randomBytes(LINK_KEY_BYTES).toString('hex')}\n`);
        return;
      }
      writeLinkKey(opts.out, opts.force === true);
      process.stderr.write(`wrote a ${LINK_KEY_BYTES}-byte key to ${opts.out} (mode 0600); copy it to the peer station over a safe path\n`);
    });
}
