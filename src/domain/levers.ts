// Focused-deterrence levers: which tier a treated perpetrator's new incident triggers, when it is due, and how fast it came.
import { createHash } from 'node:crypto';
import { quantileSorted } from 'simple-statistics';
import { z } from 'zod';

export const leverModes = ['letter', 'in-person', 'call-in'] as const;
export type LeverMode = (typeof leverModes)[number];
export const leverOutcomes = ['delivered', 'refused', 'not-found'] as const;
export type LeverOutcome = (typeof leverOutcomes)[number];
/** Outcomes after which the notification has been given (even if refused): the lever is no longer due. */
export const closingOutcomes: readonly LeverOutcome[] = ['delivered', 'refused'];

const tierName = z.string().regex(/^[A-Z]$/, 'a tier is one capital letter, such as D');

const tierSchema = z.strictObject({
  tier: tierName,
  name: z.string().trim().min(1).max(60),
  mode: z.enum(leverModes),
  /** The first version of the tier's scripted notification; later versions are added with `dmm trial script`. */
  script: z.string().trim().min(1).max(4000),
});

export const leverConfigSchema = z
  .strictObject({
    target_hours: z.number().positive().max(24 * 60).default(72),
    victim_contact_agency: z.string().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'must be an agency such as idva').default('idva'),
    victim_contact_days: z.number().int().min(0).max(30).default(1),
    tiers: z
      .array(tierSchema)
      .min(1)
      .default([
        { tier: 'D', name: 'letter', mode: 'letter', script: 'ILLUSTRATIVE SCRIPT (replace with the force\'s approved wording). You have been identified as responsible for domestic abuse. Any further abuse will be met with a faster and firmer response from the police and partners.' },
        { tier: 'C', name: 'face-to-face notice', mode: 'in-person', script: 'ILLUSTRATIVE SCRIPT. This notice is delivered in person after a charge. If you are reported for domestic abuse again, the next step is a call-in meeting and priority prosecution.' },
        { tier: 'B', name: 'call-in', mode: 'call-in', script: 'ILLUSTRATIVE SCRIPT. You are asked to attend a call-in meeting with police and partners. Further abuse will be prosecuted as a priority with every available power.' },
        { tier: 'A', name: 'enforcement', mode: 'in-person', script: 'ILLUSTRATIVE SCRIPT. As you were warned, your case is now fast-tracked for prosecution with the conditions the court allows.' },
      ]),
    /** Which tier an incident triggers: a non-crime one, and the 1st, 2nd, … crime since enrolment (the last repeats). */
    rule: z
      .strictObject({ non_crime: tierName, crimes: z.array(tierName).min(1) })
      .default({ non_crime: 'D', crimes: ['C', 'B', 'A'] }),
  })
  .superRefine((config, ctx) => {
    const tiers = config.tiers.map((t) => t.tier);
    tiers.forEach((tier, i) => {
      if (tiers.indexOf(tier) !== i) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'tier'], message: `tier ${tier} is listed twice` });
    });
    for (const [path, tier] of [[['rule', 'non_crime'], config.rule.non_crime], ...config.rule.crimes.map((t, i) => [['rule', 'crimes', i], t] as const)] as const) {
      if (!tiers.includes(tier)) ctx.addIssue({ code: 'custom', path: [...path], message: `tier ${tier} is not one of the tiers (${tiers.join(', ')})` });
    }
  });

export type LeverConfig = z.output<typeof leverConfigSchema>;
export const defaultLeverConfig: LeverConfig = leverConfigSchema.parse({});

export function tierOf(config: LeverConfig, tier: string) {
  return config.tiers.find((t) => t.tier === tier.toUpperCase());
}

/** A version is the hash of the script's text, so the same words are always the same version. */
export function scriptVersionOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n').trim(), 'utf8').digest('hex').slice(0, 12);
}

export interface TreatedIncident {
  incidentId: number;
  ref: string;
  reportedAt: Date;
  crime: boolean;
}

export interface LeverDue {
  incidentId: number;
  incidentRef: string;
  reportedAt: Date;
  tier: string;
  tierName: string;
  mode: LeverMode;
  dueBy: Date;
  overdue: boolean;
}

/**
 * The levers a treated perpetrator's incidents since enrolment make due, oldest first, leaving out those
 * whose notification was given. The n-th crime since enrolment triggers the rule's n-th tier.
 */
export function leversDue(config: LeverConfig, incidents: TreatedIncident[], closedIncidentIds: ReadonlySet<number>, now: Date): LeverDue[] {
  const sorted = [...incidents].sort((a, b) => a.reportedAt.getTime() - b.reportedAt.getTime() || a.incidentId - b.incidentId);
  let crimes = 0;
  const due: LeverDue[] = [];
  for (const incident of sorted) {
    if (incident.crime) crimes++;
    const tier = incident.crime ? config.rule.crimes[Math.min(crimes, config.rule.crimes.length) - 1]! : config.rule.non_crime;
    if (closedIncidentIds.has(incident.incidentId)) continue;
    const definition = tierOf(config, tier)!;
    const dueBy = new Date(incident.reportedAt.getTime() + config.target_hours * 3_600_000);
    due.push({ incidentId: incident.incidentId, incidentRef: incident.ref, reportedAt: incident.reportedAt, tier, tierName: definition.name, mode: definition.mode, dueBy, overdue: now.getTime() > dueBy.getTime() });
  }
  return due;
}

/** Hours from the incident's report to the delivery: the protocol's "rapidity". */
export function rapidityHours(reportedAt: Date, deliveredAt: Date): number {
  return Math.round(((deliveredAt.getTime() - reportedAt.getTime()) / 3_600_000) * 100) / 100;
}

export interface RapiditySummary {
  tier: string;
  deliveries: number;
  medianHours: number | null;
  p90Hours: number | null;
  withinTarget: number;
}

export function rapidityByTier(config: LeverConfig, deliveries: Array<{ tier: string; hours: number }>): RapiditySummary[] {
  return config.tiers.map(({ tier }) => {
    const hours = deliveries.filter((d) => d.tier === tier).map((d) => d.hours).sort((a, b) => a - b);
    return {
      tier,
      deliveries: hours.length,
      medianHours: hours.length ? quantileSorted(hours, 0.5) : null,
      p90Hours: hours.length ? quantileSorted(hours, 0.9) : null,
      withinTarget: hours.filter((h) => h <= config.target_hours).length,
    };
  });
}
