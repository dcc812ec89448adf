// Pseudonymous labels: stable, unrelated to the reference, and different under another store's key.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pseudonymFor, pseudonymPattern } from '../../src/domain/pseudonym.js';

describe('pseudonymFor', () => {
  const key = Buffer.alloc(32, 7);

  it('is stable for one key and has the documented shape', () => {
    const label = pseudonymFor('TEST-P-1', key);
    expect(label).toBe(pseudonymFor('TEST-P-1', Buffer.alloc(32, 7)));
    expect(label).toMatch(pseudonymPattern);
  });

  it('depends on the key, so labels reveal nothing without it', () => {
    expect(pseudonymFor('TEST-P-1', key)).not.toBe(pseudonymFor('TEST-P-1', randomBytes(32)));
  });

  it('never contains the reference and gives distinct labels to distinct references', () => {
    const labels = new Set<string>();
    for (let i = 0; i < 50_000; i++) labels.add(pseudonymFor(`TEST-P-${i}`, key));
    expect(labels.size).toBe(50_000);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9]{3,12}$/), (ref) => {
        expect(pseudonymFor(ref, key).includes(ref)).toBe(false);
      }),
    );
  });
});
