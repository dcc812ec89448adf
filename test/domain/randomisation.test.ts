// Trial randomisation: reproducible, order- and stratum-independent, balanced within blocks, with strict parsing of CLI input.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { describe, expect, it } from 'vitest';
import {
  allocate,
  allocationDigest,
  blockSizesFor,
  drawSeed,
  parseRatio,
  parseSeed,
  type Allocation,
  type Arm,
  type Candidate,
} from '../../src/domain/randomisation.js';

const oneToOne: Arm[] = [
  { name: 'treatment', ratio: 1 },
  { name: 'control', ratio: 1 },
];
const twoToOne: Arm[] = [
  { name: 'treatment', ratio: 2 },
  { name: 'control', ratio: 1 },
];

function ref(n: number): string {
  return `TEST-P-${String(n).padStart(3, '0')}`;
}

function candidatesIn(stratum: string, from: number, count: number): Candidate[] {
  return Array.from({ length: count }, (_, i) => ({ ref: ref(from + i), stratum }));
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = xoroshiro128plus(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function arms(allocations: Allocation[]): string {
  return allocations.map((a) => (a.arm === 'treatment' ? 'T' : 'C')).join('');
}

function countArms(allocations: Allocation[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of allocations) counts.set(a.arm, (counts.get(a.arm) ?? 0) + 1);
  return counts;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** 1..4 strata of 1..30 candidates each, drawn from the trial number so every run is the same. */
function randomTrial(trial: number): Candidate[] {
  const rng = xoroshiro128plus(trial + 1_000_000);
  const strata = uniformInt(rng, 1, 4);
  const candidates: Candidate[] = [];
  let next = 1;
  for (let s = 0; s < strata; s++) {
    const size = uniformInt(rng, 1, 30);
    candidates.push(...candidatesIn(`S${s}`, next, size));
    next += size;
  }
  return candidates;
}

const forty = candidatesIn('A', 1, 40);

describe('allocate: reproducibility', () => {
  it('gives the identical allocation for identical inputs', () => {
    const first = allocate({ seed: 42, phase: 1, arms: oneToOne, candidates: forty });
    const second = allocate({ seed: 42, phase: 1, arms: oneToOne, candidates: candidatesIn('A', 1, 40) });
    expect(second).toEqual(first);
    expect(first).toHaveLength(40);
    expect(first.map((a) => a.ref)).toEqual(forty.map((c) => c.ref));
  });

  it('gives a different allocation for each of 50 seeds', () => {
    const sequences = new Set<string>();
    for (let seed = 1; seed <= 50; seed++) sequences.add(arms(allocate({ seed, phase: 1, arms: oneToOne, candidates: forty })));
    expect(sequences.size).toBe(50);
  });

  it('gives an unrelated sequence in another phase', () => {
    const phase1 = arms(allocate({ seed: 42, phase: 1, arms: oneToOne, candidates: forty }));
    const phase2 = arms(allocate({ seed: 42, phase: 2, arms: oneToOne, candidates: forty }));
    expect(phase2).not.toBe(phase1);
  });

  // Pinned so an accidental change to hashing, stream seeding or block drawing is caught: it would
  // silently stop recorded seeds from reproducing the allocations participants actually received.
  it('matches the pinned allocation for a known seed', () => {
    const result = allocate({ seed: 20240601, phase: 1, arms: oneToOne, candidates: candidatesIn('A', 1, 12) });
    expect(arms(result)).toBe('TCCTTCTCCTCT');
    expect(result.map((a) => a.blockSize)).toEqual([6, 6, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4]);
    expect(allocationDigest(result)).toBe('sha256:d56c4de47426eb8030d401bd1061fcd7db7bdb76911f03286ee99b7b0c097722');
  });

  it('returns nothing for no candidates', () => {
    expect(allocate({ seed: 1, phase: 1, arms: oneToOne, candidates: [] })).toEqual([]);
  });
});

describe('allocate: independence', () => {
  const mixed = [...candidatesIn('A', 1, 17), ...candidatesIn('B', 18, 11), ...candidatesIn('C', 29, 5)];

  it('does not depend on the order candidates arrive in', () => {
    const reference = allocate({ seed: 7, phase: 3, arms: twoToOne, candidates: mixed });
    for (let s = 1; s <= 10; s++) {
      const order = shuffled(mixed, s);
      expect(order.map((c) => c.ref)).not.toEqual(mixed.map((c) => c.ref));
      expect(allocate({ seed: 7, phase: 3, arms: twoToOne, candidates: order })).toEqual(reference);
    }
  });

  it('sorts refs by code point, not by UTF-16 unit or locale', () => {
    // U+FF21 sorts after U+1F600's leading surrogate (0xD83D) as a code unit, but before it as a code point.
    const odd = [
      { ref: 'TEST-P-\u{1F600}', stratum: 'A' },
      { ref: 'TEST-P-\uFF21', stratum: 'A' },
      { ref: 'TEST-P-a', stratum: 'A' },
      { ref: 'TEST-P-B', stratum: 'A' },
    ];
    const result = allocate({ seed: 1, phase: 1, arms: oneToOne, candidates: odd });
    expect(result.map((a) => a.ref)).toEqual(['TEST-P-B', 'TEST-P-a', 'TEST-P-\uFF21', 'TEST-P-\u{1F600}']);
    // Allocation order within the stratum follows the same ordering: block and position never go backwards.
    for (let i = 1; i < result.length; i++) {
      const [prev, cur] = [result[i - 1]!, result[i]!];
      expect(cur.block * 100 + cur.position).toBeGreaterThan(prev.block * 100 + prev.position);
    }
  });

  it("leaves one stratum's allocation unchanged when another stratum is removed or added", () => {
    const all = allocate({ seed: 99, phase: 1, arms: oneToOne, candidates: mixed });
    const withoutB = allocate({ seed: 99, phase: 1, arms: oneToOne, candidates: mixed.filter((c) => c.stratum !== 'B') });
    const withD = allocate({ seed: 99, phase: 1, arms: oneToOne, candidates: [...mixed, ...candidatesIn('D', 100, 9)] });
    const onlyA = (list: Allocation[]) => list.filter((a) => a.stratum === 'A');
    expect(onlyA(all)).toHaveLength(17);
    expect(onlyA(withoutB)).toEqual(onlyA(all));
    expect(onlyA(withD)).toEqual(onlyA(all));
  });

  it('gives different strata different sequences under one seed', () => {
    const twins = [...candidatesIn('A', 1, 30), ...candidatesIn('B', 31, 30)];
    const result = allocate({ seed: 5, phase: 1, arms: oneToOne, candidates: twins });
    expect(arms(result.filter((a) => a.stratum === 'A'))).not.toBe(arms(result.filter((a) => a.stratum === 'B')));
  });
});

/** Checks the block structure of one stratum and returns the sizes of the blocks it used. */
function checkBlocks(stratum: Allocation[], armList: Arm[]): number[] {
  const total = armList.reduce((sum, a) => sum + a.ratio, 0);
  const allowed = blockSizesFor(armList);
  const blocks = [...groupBy(stratum, (a) => String(a.block)).values()];
  const sizes: number[] = [];
  blocks.forEach((members, index) => {
    const size = members[0]!.blockSize;
    sizes.push(size);
    expect(members[0]!.block).toBe(index + 1);
    expect(allowed).toContain(size);
    expect(members.every((m) => m.blockSize === size)).toBe(true);
    expect(members.map((m) => m.position)).toEqual(members.map((_, i) => i + 1));
    const counts = countArms(members);
    const multiplier = size / total;
    const isLast = index === blocks.length - 1;
    if (!isLast) expect(members).toHaveLength(size);
    for (const arm of armList) {
      if (isLast) expect(counts.get(arm.name) ?? 0).toBeLessThanOrEqual(arm.ratio * multiplier);
      else expect(counts.get(arm.name) ?? 0).toBe(arm.ratio * multiplier);
    }
  });
  return sizes;
}

describe('allocate: balance over 1,000 seeded trials', () => {
  it('keeps 1:1 strata within 3 of each other, with complete blocks exactly balanced', () => {
    let strataChecked = 0;
    let worst = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const result = allocate({ seed, phase: 1, arms: oneToOne, candidates: randomTrial(seed) });
      for (const stratum of groupBy(result, (a) => a.stratum).values()) {
        strataChecked++;
        checkBlocks(stratum, oneToOne);
        const counts = countArms(stratum);
        const gap = Math.abs((counts.get('treatment') ?? 0) - (counts.get('control') ?? 0));
        // Complete blocks are exactly balanced, so the gap comes only from the unfinished block,
        // which holds at most 3 of each arm (the size-6 block).
        expect(gap).toBeLessThanOrEqual(3);
        worst = Math.max(worst, gap);
      }
    }
    expect(strataChecked).toBeGreaterThan(2000);
    // The bound is reached, so it is tight rather than vacuous.
    expect(worst).toBe(3);
  });

  it('keeps 2:1 strata within the bound a block of 9 allows', () => {
    // With d = treatment - 2 * control, every complete block adds 0. An unfinished block of
    // multiplier m holds 2m treatment and m control, and each control counts twice, so d ranges
    // from -2m (all its controls first) to +2m (all its treatments first). The largest block
    // (m = 3, size 9) therefore bounds |d| by 6.
    let low = 0;
    let high = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const result = allocate({ seed, phase: 1, arms: twoToOne, candidates: randomTrial(seed) });
      for (const stratum of groupBy(result, (a) => a.stratum).values()) {
        checkBlocks(stratum, twoToOne);
        const counts = countArms(stratum);
        const d = (counts.get('treatment') ?? 0) - 2 * (counts.get('control') ?? 0);
        expect(Math.abs(d)).toBeLessThanOrEqual(6);
        low = Math.min(low, d);
        high = Math.max(high, d);
      }
    }
    expect(low).toBe(-6);
    expect(high).toBe(6);
  });
});

describe('allocate: block sizes and order are random', () => {
  it('draws every allowed block size, roughly a third of the time each', () => {
    const sizes = new Map<number, number>();
    let blocks = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const result = allocate({ seed, phase: 1, arms: oneToOne, candidates: forty });
      for (const size of checkBlocks(result, oneToOne)) {
        sizes.set(size, (sizes.get(size) ?? 0) + 1);
        blocks++;
      }
    }
    expect([...sizes.keys()].sort((a, b) => a - b)).toEqual([2, 4, 6]);
    for (const count of sizes.values()) {
      expect(count / blocks).toBeGreaterThan(0.28);
      expect(count / blocks).toBeLessThan(0.39);
    }
  });

  it('uses one, two and three times the ratio total', () => {
    expect(blockSizesFor(oneToOne)).toEqual([2, 4, 6]);
    expect(blockSizesFor(twoToOne)).toEqual([3, 6, 9]);
    expect(
      blockSizesFor([
        { name: 'a', ratio: 1 },
        { name: 'b', ratio: 1 },
        { name: 'c', ratio: 1 },
      ]),
    ).toEqual([3, 6, 9]);
  });

  it('shuffles within blocks: the first place in a block goes to either arm about equally', () => {
    let first = 0;
    let treatmentFirst = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      for (const a of allocate({ seed, phase: 1, arms: oneToOne, candidates: forty })) {
        if (a.position !== 1) continue;
        first++;
        if (a.arm === 'treatment') treatmentFirst++;
      }
    }
    expect(first).toBeGreaterThan(5000);
    expect(treatmentFirst / first).toBeGreaterThan(0.47);
    expect(treatmentFirst / first).toBeLessThan(0.53);
  });
});

describe('allocate: programmer errors', () => {
  const base = { seed: 1, phase: 1, arms: oneToOne, candidates: forty };

  it('refuses fewer than 2 arms', () => {
    expect(() => allocate({ ...base, arms: [{ name: 'treatment', ratio: 1 }] })).toThrow(/at least 2 arms/);
    expect(() => blockSizesFor([])).toThrow(/at least 2 arms/);
  });

  it('refuses duplicate arm names', () => {
    const arms = [
      { name: 'treatment', ratio: 1 },
      { name: 'treatment', ratio: 2 },
    ];
    expect(() => allocate({ ...base, arms })).toThrow(/duplicate arm name "treatment"/);
  });

  it.each([0, -1, 1.5, Number.NaN, 101])('refuses ratio %s', (ratio) => {
    const arms = [
      { name: 'treatment', ratio },
      { name: 'control', ratio: 1 },
    ];
    expect(() => allocate({ ...base, arms })).toThrow(/arm "treatment" has ratio/);
  });

  it('refuses duplicate candidate refs, even across strata', () => {
    const candidates = [...forty, { ref: ref(3), stratum: 'B' }];
    expect(() => allocate({ ...base, candidates })).toThrow(/duplicate candidate ref "TEST-P-003"/);
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses seed %s', (seed) => {
    expect(() => allocate({ ...base, seed })).toThrow(/seed .* is not a safe integer/);
  });

  it('refuses a non-integer phase', () => {
    expect(() => allocate({ ...base, phase: 0.5 })).toThrow(/phase 0.5 is not a safe integer/);
  });
});

describe('allocationDigest', () => {
  const result = allocate({ seed: 11, phase: 1, arms: oneToOne, candidates: forty });

  it('is a sha256 hex digest that ignores the order allocations are listed in', () => {
    const digest = allocationDigest(result);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(allocationDigest(shuffled(result, 3))).toBe(digest);
  });

  it("changes when one allocation's arm changes", () => {
    const edited = result.map((a, i) => (i === 17 ? { ...a, arm: a.arm === 'treatment' ? 'control' : 'treatment' } : a));
    expect(allocationDigest(edited)).not.toBe(allocationDigest(result));
  });

  it('changes when the block bookkeeping changes', () => {
    const edited = result.map((a, i) => (i === 0 ? { ...a, position: a.position + 1 } : a));
    expect(allocationDigest(edited)).not.toBe(allocationDigest(result));
  });
});

describe('parseRatio', () => {
  it('defaults to equal shares', () => {
    expect(parseRatio(undefined, 2)).toEqual({ ok: true, ratio: [1, 1] });
    expect(parseRatio(undefined, 3)).toEqual({ ok: true, ratio: [1, 1, 1] });
  });

  it.each([
    ['1:1', 2, [1, 1]],
    ['2:1', 2, [2, 1]],
    ['1:1:1', 3, [1, 1, 1]],
    [' 3 : 2 ', 2, [3, 2]],
  ])('reads %j for %i arms', (text, count, ratio) => {
    expect(parseRatio(text, count)).toEqual({ ok: true, ratio });
  });

  it('needs every arm to have a share', () => {
    expect(parseRatio('2:0', 2)).toEqual({ ok: false, error: 'ratio "2:0": every arm needs a share of at least 1' });
  });

  it.each(['a:b', '1:', ':1', '1.5:1', '-1:2', '', '1;1'])('refuses %j with a clear message', (text) => {
    const result = parseRatio(text, 2);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(new RegExp(`^ratio "${text.replace(/[.]/g, '\\.')}": each share must be a whole number`));
  });

  it('names both counts when the number of shares does not match the arms', () => {
    const result = parseRatio('1:1:1', 2);
    expect(result).toEqual({ ok: false, error: 'ratio "1:1:1" has 3 share(s) but the trial has 2 arms' });
    const short = parseRatio('2', 2);
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.error).toContain('1 share(s) but the trial has 2 arms');
  });

  it('refuses absurdly large shares', () => {
    const result = parseRatio('1000:1', 2);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain('above 100');
  });

  it('produces ratios that allocate accepts', () => {
    const result = parseRatio('2:1', 2);
    if (!result.ok) throw new Error(result.error);
    const armList = ['treatment', 'control'].map((name, i) => ({ name, ratio: result.ratio[i]! }));
    expect(blockSizesFor(armList)).toEqual([3, 6, 9]);
  });
});

describe('parseSeed', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['007', 7],
    [' 123 ', 123],
    ['2147483647', 2147483647],
  ])('reads %j', (text, seed) => {
    expect(parseSeed(text)).toEqual({ ok: true, seed });
  });

  it.each(['1.5', 'abc', '', '99999999999999', '2147483648', '-1', '1e3', '0x10', '+5'])('refuses %j', (text) => {
    expect(parseSeed(text)).toEqual({ ok: false, error: `seed "${text}" is not an integer between 0 and 2147483647` });
  });
});

describe('drawSeed', () => {
  it('turns 4 bytes into a non-negative 31-bit seed', () => {
    expect(drawSeed(Uint8Array.of(0, 0, 0, 1))).toBe(1);
    expect(drawSeed(Uint8Array.of(0x12, 0x34, 0x56, 0x78))).toBe(0x12345678);
    expect(drawSeed(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(2147483647);
    expect(drawSeed(Uint8Array.of(0x80, 0, 0, 0))).toBe(0);
  });

  it('draws seeds that parseSeed reads back unchanged', () => {
    const rng = xoroshiro128plus(1);
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 4 }, () => uniformInt(rng, 0, 255));
      const seed = drawSeed(bytes);
      expect(parseSeed(String(seed))).toEqual({ ok: true, seed });
    }
  });

  it('refuses fewer than 4 bytes', () => {
    expect(() => drawSeed(Uint8Array.of(1, 2, 3))).toThrow(/4 random bytes/);
  });
});
