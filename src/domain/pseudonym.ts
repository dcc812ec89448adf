// Stable pseudonymous labels for people: what chat shows instead of a name or a records-system reference.
import { createHmac } from 'node:crypto';

const crockford = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * An HMAC under a key kept in the store, so a label reveals nothing about the person or their
 * reference without the key, and stays the same for as long as the store does. Ten base-32
 * characters (50 bits) keep collisions out of reach for millions of people.
 */
export function pseudonymFor(ref: string, key: Buffer): string {
  const digest = createHmac('sha256', key).update(ref, 'utf8').digest();
  let bits = 0n;
  for (let i = 0; i < 7; i++) bits = (bits << 8n) | BigInt(digest[i]!);
  let out = '';
  for (let i = 0; i < 10; i++) {
    out += crockford[Number((bits >> BigInt(56 - 5 * (i + 1))) & 31n)];
  }
  return `N-${out.slice(0, 5)}-${out.slice(5)}`;
}

export const pseudonymPattern = /^N-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;
