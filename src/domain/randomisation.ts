// Stratified permuted-block randomisation for the trial: reproducible from a recorded seed, so any allocation can be re-derived and checked.
import { createHash } from 'node:crypto';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

export interface Arm {
  name: string;
  /** A positive integer share, e.g. 2 and 1 for a 2:1 trial. */
  ratio: number;
}

export interface Candidate {
  /** Records-system reference; unique across the whole call. */
  ref: string;
  stratum: string;
}

export interface Allocation {
  ref: string;
  arm: string;
  stratum: string;
  /** 1-based index of the block within its stratum. */
  block: number;
  /** Size the block was drawn with, even when the stratum ran out before filling it. */
  blockSize: number;
  /** 1-based position within the block. */
  position: number;
}

/**
 * Shares above this are refused: a block holds up to three times the ratio total, and nobody
 * means a 1000:1 trial, so a huge share is a typo that would otherwise build enormous blocks.
 */
export const MAX_SHARE = 100;

/** Seeds the CLI accepts and draws: non-negative 31-bit, so they read the same in any tool. */
export const MAX_SEED = 0x7fff_ffff;

const BLOCK_MULTIPLIERS = [1, 2, 3] as const;

/**
 * Part of every stratum's hash input. Changing it (or anything else about how streams or blocks
 * are drawn) changes every allocation ever made from a recorded seed, so bump it deliberately.
 */
const STREAM_TAG = 'dmm-rct-stratum-v1';

/**
 * Refs sort by code point rather than with `<` (UTF-16 code units) or localeCompare (varies with
 * ICU data and locale), so the order, and therefore the allocation, is the same on every machine.
 */
function compareCodePoints(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    // Equal code points occupy the same number of code units, so one index serves both strings.
    i += ca > 0xffff ? 2 : 1;
  }
  if (a.length === b.length) return 0;
  return i >= a.length ? -1 : 1;
}

function validateArms(arms: readonly Arm[]): void {
  if (!Array.isArray(arms) || arms.length < 2) {
    throw new Error(`randomisation needs at least 2 arms, got ${Array.isArray(arms) ? arms.length : 'none'}`);
  }
  const seen = new Set<string>();
  for (const arm of arms) {
    if (typeof arm.name !== 'string' || arm.name === '') throw new Error('every arm needs a non-empty name');
    if (seen.has(arm.name)) throw new Error(`duplicate arm name "${arm.name}"`);
    seen.add(arm.name);
    if (!Number.isInteger(arm.ratio) || arm.ratio < 1 || arm.ratio > MAX_SHARE) {
      throw new Error(`arm "${arm.name}" has ratio ${String(arm.ratio)}; it must be a whole number from 1 to ${MAX_SHARE}`);
    }
  }
}

export function blockSizesFor(arms: Arm[]): number[] {
  validateArms(arms);
  const total = arms.reduce((sum, arm) => sum + arm.ratio, 0);
  return BLOCK_MULTIPLIERS.map((m) => m * total);
}

/**
 * Each stratum gets its own stream keyed on (seed, phase, stratum), so adding, removing or
 * reordering other strata can never shift this stratum's draws. JSON keeps the hash input
 * unambiguous whatever characters the stratum name contains.
 */
function streamFor(seed: number, phase: number, stratum: string): RandomGenerator {
  const digest = createHash('sha256').update(JSON.stringify([STREAM_TAG, seed, phase, stratum]), 'utf8').digest();
  return xoroshiro128plus(digest.readInt32BE(0));
}

function drawBlock(rng: RandomGenerator, arms: readonly Arm[]): string[] {
  const multiplier = BLOCK_MULTIPLIERS[uniformInt(rng, 0, BLOCK_MULTIPLIERS.length - 1)]!;
  const block: string[] = [];
  for (const arm of arms) {
    for (let k = 0; k < arm.ratio * multiplier; k++) block.push(arm.name);
  }
  for (let i = block.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [block[i], block[j]] = [block[j]!, block[i]!];
  }
  return block;
}

export function allocate(input: { seed: number; phase: number; arms: Arm[]; candidates: Candidate[] }): Allocation[] {
  const { seed, phase, arms, candidates } = input;
  if (!Number.isSafeInteger(seed)) throw new Error(`seed ${String(seed)} is not a safe integer`);
  if (!Number.isSafeInteger(phase)) throw new Error(`phase ${String(phase)} is not a safe integer`);
  validateArms(arms);

  const byStratum = new Map<string, string[]>();
  const refs = new Set<string>();
  for (const candidate of candidates) {
    if (typeof candidate.ref !== 'string' || candidate.ref === '') throw new Error('every candidate needs a non-empty ref');
    if (typeof candidate.stratum !== 'string') throw new Error(`candidate "${candidate.ref}" has no stratum`);
    if (refs.has(candidate.ref)) throw new Error(`duplicate candidate ref "${candidate.ref}"`);
    refs.add(candidate.ref);
    const members = byStratum.get(candidate.stratum);
    if (members) members.push(candidate.ref);
    else byStratum.set(candidate.stratum, [candidate.ref]);
  }

  const allocations: Allocation[] = [];
  for (const [stratum, members] of byStratum) {
    members.sort(compareCodePoints);
    const rng = streamFor(seed, phase, stratum);
    let block: string[] = [];
    let blockIndex = 0;
    let position = 0;
    for (const ref of members) {
      if (position === block.length) {
        block = drawBlock(rng, arms);
        blockIndex++;
        position = 0;
      }
      allocations.push({ ref, arm: block[position]!, stratum, block: blockIndex, blockSize: block.length, position: position + 1 });
      position++;
    }
  }
  return allocations.sort((a, b) => compareCodePoints(a.ref, b.ref));
}

/**
 * Fixed field order and ref order, so the same allocation always hashes the same however it was
 * stored or loaded; a recorded digest then proves the list was not edited afterwards.
 */
export function allocationDigest(allocations: Allocation[]): string {
  const rows = [...allocations]
    .sort((a, b) => compareCodePoints(a.ref, b.ref))
    .map((a) => [a.ref, a.stratum, a.arm, a.block, a.blockSize, a.position]);
  return `sha256:${createHash('sha256').update(JSON.stringify(rows), 'utf8').digest('hex')}`;
}

export function parseRatio(
  text: string | undefined,
  armCount: number,
): { ok: true; ratio: number[] } | { ok: false; error: string } {
  if (!Number.isInteger(armCount) || armCount < 2) throw new Error(`a ratio needs at least 2 arms, got ${armCount}`);
  if (text === undefined) return { ok: true, ratio: Array.from({ length: armCount }, () => 1) };
  const parts = text.trim().split(':').map((part) => part.trim());
  for (const part of parts) {
    if (!/^[0-9]+$/.test(part)) {
      return { ok: false, error: `ratio "${text}": each share must be a whole number, like 2:1 (got "${part}")` };
    }
  }
  if (parts.length !== armCount) {
    return { ok: false, error: `ratio "${text}" has ${parts.length} share(s) but the trial has ${armCount} arms` };
  }
  const ratio = parts.map(Number);
  if (ratio.some((share) => share < 1)) {
    return { ok: false, error: `ratio "${text}": every arm needs a share of at least 1` };
  }
  if (ratio.some((share) => share > MAX_SHARE)) {
    return { ok: false, error: `ratio "${text}": shares above ${MAX_SHARE} are not supported` };
  }
  return { ok: true, ratio };
}

/** Only non-negative seeds, matching drawSeed, so a recorded seed has one spelling. */
export function parseSeed(text: string): { ok: true; seed: number } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (/^[0-9]+$/.test(trimmed)) {
    const seed = Number(trimmed);
    if (seed <= MAX_SEED) return { ok: true, seed };
  }
  return { ok: false, error: `seed "${text}" is not an integer between 0 and ${MAX_SEED}` };
}

export function drawSeed(randomBytes: Uint8Array): number {
  if (randomBytes.length < 4) throw new Error(`drawSeed needs 4 random bytes, got ${randomBytes.length}`);
  // Top bit dropped so the seed stays inside what parseSeed accepts when typed back in.
  return ((randomBytes[0]! << 24) | (randomBytes[1]! << 16) | (randomBytes[2]! << 8) | randomBytes[3]!) & MAX_SEED;
}
