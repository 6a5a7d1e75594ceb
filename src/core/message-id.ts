import type { Clock, Random } from './clock.ts';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32: no I, L, O, U

/**
 * Queue ids sort by arrival time: 10 characters of milliseconds then 10 of randomness (50 bits), so
 * two gateways never collide in practice and logs read in order.
 */
export function newMessageId(clock: Clock, random: Random): string {
  let t = clock.now();
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = random.bytes(10);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 32];
  return time + rand;
}
