// Creates a trial (arms, ratio, strata, recorded seeds) and opens its later phases.
import { randomBytes } from 'node:crypto';
import { isLocalDate, type LocalDate } from '../domain/calendar.js';
import { drawSeed, parseRatio, parseSeed } from '../domain/randomisation.js';
import { leverConfigSchema, scriptVersionOf, type LeverConfig } from '../domain/levers.js';
import { parseArms, parseStrata, parseTrialName } from '../domain/trial.js';
import { Prisma } from '../generated/prisma/client.js';
import { appendAuditMany } from '../store/audit.js';
import { dateOf } from '../store/actions.js';
import type { Database } from '../store/database.js';
import { TrialRefusal } from './trial-errors.js';

export interface NewTrial {
  name: string;
  arms: string;
  ratio?: string;
  strata?: string;
  seed?: string;
  /** Phase 1's first day. */
  from: LocalDate;
  /** The lever protocol the trial keeps for its whole life. */
  levers: LeverConfig;
}

function valueOf<T>(parsed: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!parsed.ok) throw new TrialRefusal(parsed.error);
  return parsed.value;
}

export async function createTrial(db: Database, request: NewTrial, actor: string) {
  const name = valueOf(parseTrialName(request.name));
  const arms = valueOf(parseArms(request.arms));
  const ratio = parseRatio(request.ratio, arms.length);
  if (!ratio.ok) throw new TrialRefusal(ratio.error);
  const strata = valueOf(parseStrata(request.strata));
  let seed: number;
  if (request.seed === undefined) {
    seed = drawSeed(randomBytes(4));
  } else {
    const parsed = parseSeed(request.seed);
    if (!parsed.ok) throw new TrialRefusal(parsed.error);
    seed = parsed.seed;
  }
  const bootstrapSeed = drawSeed(randomBytes(4));
  const armsWithRatio = arms.map((arm, i) => ({ name: arm, ratio: ratio.ratio[i]! }));
  try {
    return await db.prisma.$transaction(async (tx) => {
      const trial = await tx.trial.create({
        data: { name, arms: armsWithRatio, strata, seed, bootstrapSeed, levers: request.levers as unknown as Prisma.InputJsonValue, createdBy: actor },
      });
      // Each tier's first script version; the same words are the same version, so a second trial adds nothing.
      await tx.leverScript.createMany({
        data: request.levers.tiers.map((t) => ({ tier: t.tier, version: scriptVersionOf(t.script), text: t.script.trim(), createdBy: actor })),
        skipDuplicates: true,
      });
      await tx.trialPhase.create({ data: { trialId: trial.id, number: 1, startsOn: dateOf(request.from), createdBy: actor } });
      await appendAuditMany(tx, [
        { actor, action: 'trial.create', subject: name, channel: 'cli', details: { arms: armsWithRatio.map((a) => `${a.name}:${a.ratio}`).join(','), strata: strata.join(','), seed, bootstrapSeed } },
      ]);
      return { ...trial, arms: armsWithRatio };
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new TrialRefusal(`a trial named "${name}" already exists`);
    throw error;
  }
}

export async function openPhase(db: Database, trialName: string, number: number, from: string, actor: string) {
  if (!isLocalDate(from)) throw new TrialRefusal(`--from must be a date as YYYY-MM-DD, not "${from}"`);
  if (!Number.isSafeInteger(number) || number < 2) throw new TrialRefusal(`the phase must be a whole number of 2 or more (phase 1 opens with the trial)`);
  try {
    return await db.prisma.$transaction(async (tx) => {
      const trial = await trialNamed(tx, trialName);
      const last = await tx.trialPhase.findFirst({ where: { trialId: trial.id }, orderBy: { number: 'desc' } });
      const next = (last?.number ?? 0) + 1;
      if (number !== next) throw new TrialRefusal(`trial ${trial.name} is in phase ${last?.number ?? 0}; the next phase is ${next}, not ${number}`);
      if (last && dateOf(from) < last.startsOn) throw new TrialRefusal(`phase ${number} cannot start before phase ${last.number} (${last.startsOn.toISOString().slice(0, 10)})`);
      const phase = await tx.trialPhase.create({ data: { trialId: trial.id, number, startsOn: dateOf(from), createdBy: actor } });
      await appendAuditMany(tx, [{ actor, action: 'trial.phase', subject: trial.name, channel: 'cli', details: { phase: number, from } }]);
      return phase;
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new TrialRefusal(`phase ${number} of ${trialName} was opened at the same moment by someone else`);
    throw error;
  }
}

export interface ArmShare {
  name: string;
  ratio: number;
}

/** A trial by name, or a refusal naming the trials there are. */
export async function trialNamed(tx: Pick<Prisma.TransactionClient, 'trial'>, name: string) {
  const trial = await tx.trial.findUnique({ where: { name } });
  if (!trial) {
    const names = (await tx.trial.findMany({ select: { name: true }, orderBy: { name: 'asc' } })).map((t) => t.name);
    throw new TrialRefusal(`there is no trial "${name}"${names.length ? `; trials: ${names.join(', ')}` : ' (create one with dmm trial create)'}`);
  }
  return { ...trial, arms: trial.arms as unknown as ArmShare[], levers: leverConfigSchema.parse(trial.levers) };
}
