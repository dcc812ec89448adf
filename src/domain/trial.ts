// The rules of a trial that do not need the store: names, arms, strata, exits, and who is visibly treated.
export const controlArm = 'control';
export const strataKinds = ['area', 'score-band'] as const;
export type StratumKind = (typeof strataKinds)[number];
export const exitReasons = ['safety', 'custody', 'moved', 'died', 'other'] as const;
export type ExitReason = (typeof exitReasons)[number];

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseTrialName(text: string): Parsed<string> {
  return /^[a-z0-9][a-z0-9_-]{0,39}$/i.test(text)
    ? { ok: true, value: text }
    : { ok: false, error: `trial name "${text}" must be 1 to 40 letters, digits, - or _, starting with a letter or digit` };
}

/**
 * Arms, in order. One must be called `control`: its members are left exactly as they would have been
 * without the trial, so the bot has to know which arm that is; every other arm is treated.
 */
export function parseArms(text: string): Parsed<string[]> {
  const arms = text.split(',').map((a) => a.trim());
  const bad = arms.find((a) => !/^[a-z][a-z0-9-]{0,29}$/.test(a));
  if (bad !== undefined) return { ok: false, error: `arm "${bad}" must be lower-case letters, digits or -, starting with a letter` };
  if (arms.length < 2) return { ok: false, error: `--arms needs two or more arms, such as treatment,control` };
  const duplicate = arms.find((a, i) => arms.indexOf(a) !== i);
  if (duplicate) return { ok: false, error: `arm "${duplicate}" is listed twice` };
  if (arms.filter((a) => a === controlArm).length !== 1) {
    return { ok: false, error: `one arm must be named "${controlArm}" (its members get nothing visible); for example --arms treatment,control` };
  }
  return { ok: true, value: arms };
}

export function parseStrata(text: string | undefined): Parsed<StratumKind[]> {
  if (text === undefined || text.trim() === '') return { ok: true, value: [] };
  const kinds = text.split(',').map((s) => s.trim());
  const unknown = kinds.find((k) => !(strataKinds as readonly string[]).includes(k));
  if (unknown !== undefined) return { ok: false, error: `stratum "${unknown}" is not one of ${strataKinds.join(', ')}` };
  if (new Set(kinds).size !== kinds.length) return { ok: false, error: `--strata lists a stratum twice` };
  return { ok: true, value: kinds as StratumKind[] };
}

export function parseExitReason(text: string): Parsed<ExitReason> {
  return (exitReasons as readonly string[]).includes(text)
    ? { ok: true, value: text as ExitReason }
    : { ok: false, error: `--reason must be one of ${exitReasons.join(', ')}, not "${text}"` };
}

export function isTreatmentArm(arm: string): boolean {
  return arm !== controlArm;
}

export interface StratumInput {
  ref: string;
  score: number;
  area: string;
}

/**
 * Each candidate's stratum. The score band splits the candidates of this enrolment at their median
 * score (upper includes the median), so both bands hold about half whatever the scoring's scale.
 */
export function strataOf(kinds: StratumKind[], candidates: StratumInput[]): Map<string, string> {
  const scores = candidates.map((c) => c.score).sort((a, b) => a - b);
  const median = scores.length === 0 ? 0 : scores.length % 2 ? scores[(scores.length - 1) / 2]! : (scores[scores.length / 2 - 1]! + scores[scores.length / 2]!) / 2;
  return new Map(
    candidates.map((c) => {
      const parts = kinds.map((kind) => (kind === 'area' ? `area=${c.area}` : `score=${c.score >= median ? 'upper' : 'lower'}`));
      return [c.ref, parts.length ? parts.join('|') : 'all'];
    }),
  );
}
