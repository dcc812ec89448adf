// Fills an empty store with synthetic, obviously fictional data: two weeks of incidents, flagged
// perpetrators, members, open actions and a panel, so a newcomer sees a real agenda at once.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { FlagRecord, IncidentRecord, RiskLevel } from '../domain/records.js';
import { flagRecordSchema, incidentRecordSchema } from '../domain/records.js';
import { appendAudit } from '../store/audit.js';
import type { Database } from '../store/database.js';
import { upsertFlags, upsertIncidents } from '../store/records-repository.js';

export class StoreNotEmptyError extends Error {
  override name = 'StoreNotEmptyError';
}

export interface DemoSummary {
  incidents: number;
  flags: number;
  members: number;
  actions: number;
  panels: number;
}

const areas = ['Demo North', 'Demo South', 'Demo East', 'Demo West', 'Demo Central'];
const categories = ['assault', 'harassment', 'criminal damage', 'coercive control', 'breach of order', 'verbal argument', 'threats'];
const dayMs = 86_400_000;

/** Every reference starts with DEMO- and every person is a number, so nothing can be mistaken for real data. */
export function demoRecords(now: Date, seed = 20_260_301): { incidents: IncidentRecord[]; flags: FlagRecord[] } {
  const rng = xoroshiro128plus(seed);
  const pick = <T>(items: readonly T[]): T => items[uniformInt(rng, 0, items.length - 1)]!;
  const perpetrators = Array.from({ length: 24 }, (_, i) => `DEMO-P-${String(i + 1).padStart(3, '0')}`);
  const victims = Array.from({ length: 30 }, (_, i) => `DEMO-V-${String(i + 1).padStart(3, '0')}`);
  const incidents: IncidentRecord[] = [];
  const start = now.getTime() - 14 * dayMs;
  for (let i = 0; i < 90; i++) {
    // A few prolific perpetrators and repeat victims, as in real caseloads.
    const p = uniformInt(rng, 0, 99) < 40 ? perpetrators[uniformInt(rng, 0, 3)]! : pick(perpetrators);
    const v = uniformInt(rng, 0, 99) < 30 ? victims[uniformInt(rng, 0, 2)]! : pick(victims);
    const reported = new Date(start + uniformInt(rng, 0, 14 * 24 * 60 - 1) * 60_000);
    const roll = uniformInt(rng, 0, 99);
    const risk: RiskLevel = roll < 25 ? 'high' : roll < 60 ? 'medium' : 'standard';
    incidents.push(
      incidentRecordSchema.parse({
        source_ref: `DEMO-INC-${String(i + 1).padStart(4, '0')}`,
        reported_at: reported.toISOString(),
        occurred_at: new Date(reported.getTime() - uniformInt(rng, 10, 600) * 60_000).toISOString(),
        risk_level: risk,
        risk_tool: uniformInt(rng, 0, 1) ? 'dara' : 'dash',
        prof_judgement: uniformInt(rng, 0, 9) === 0,
        category: pick(categories),
        crime: uniformInt(rng, 0, 99) < 60,
        area: pick(areas),
        children_present: uniformInt(rng, 0, 99) < 35,
        perpetrator_ref: p,
        victim_ref: v,
      }),
    );
  }
  const day = (offset: number) => new Date(now.getTime() + offset * dayMs).toISOString().slice(0, 10);
  const flags: FlagRecord[] = [
    { perpetrator_ref: perpetrators[0]!, kind: 'iom', note: 'Demo: IOM fixed cohort', starts_on: day(-120), ends_on: '' },
    { perpetrator_ref: perpetrators[0]!, kind: 'bail', note: 'Demo: bail conditions', starts_on: day(-10), ends_on: day(20) },
    { perpetrator_ref: perpetrators[1]!, kind: 'marac', note: 'Demo: open MARAC case', starts_on: day(-40), ends_on: '' },
    { perpetrator_ref: perpetrators[2]!, kind: 'order', note: 'Demo: non-molestation order', starts_on: day(-200), ends_on: day(165) },
    { perpetrator_ref: perpetrators[3]!, kind: 'matac', note: 'Demo: MATAC', starts_on: day(-60), ends_on: '' },
    { perpetrator_ref: perpetrators[5]!, kind: 'chair', note: 'Demo: chair flag', starts_on: day(-5), ends_on: '' },
    { perpetrator_ref: perpetrators[9]!, kind: 'order', note: 'Demo: expired order', starts_on: day(-400), ends_on: day(-30) },
  ].map((f) => flagRecordSchema.parse(f));
  return { incidents, flags };
}

export async function seedDemo(db: Database, actor: string, meetingKey: string, now = new Date()): Promise<DemoSummary> {
  if ((await db.prisma.incident.count()) > 0 || (await db.prisma.member.count()) > 0) {
    throw new StoreNotEmptyError('The store already holds data; `dmm seed --demo` only fills an empty store (remove the data folder to start again).');
  }
  const { incidents, flags } = demoRecords(now);
  return db.prisma.$transaction(
    async (tx) => {
      await upsertIncidents(tx, incidents, db.labelKey);
      await upsertFlags(tx, flags, db.labelKey, 'demo');
      const members = [
        { slackUserId: 'U0DEMOCHAIR', displayName: 'Demo Chair (fictional)', agency: 'police', role: 'chair' as const },
        { slackUserId: 'U0DEMOIDVA', displayName: 'Demo IDVA (fictional)', agency: 'idva', role: 'member' as const },
        { slackUserId: 'U0DEMOCSC', displayName: 'Demo Social Worker (fictional)', agency: 'childrens-social-care', role: 'member' as const },
        { slackUserId: 'U0DEMOPROB', displayName: 'Demo Probation Officer (fictional)', agency: 'probation', role: 'member' as const },
      ];
      for (const member of members) await tx.member.create({ data: member });
      const owners = await tx.member.findMany({ orderBy: { id: 'asc' } });
      const someIncidents = await tx.incident.findMany({ where: { riskLevel: 'high' }, orderBy: { reportedAt: 'asc' }, take: 4 });
      const date = (offset: number) => new Date(`${new Date(now.getTime() + offset * dayMs).toISOString().slice(0, 10)}T00:00:00Z`);
      const actionTexts = ['Complete safety plan review', 'Check school attendance (Operation Encompass)', 'Review bail conditions', 'Refer to MARAC'];
      let actions = 0;
      for (const [i, incident] of someIncidents.entries()) {
        const owner = owners[(i % (owners.length - 1)) + 1]!;
        await tx.action.create({
          data: {
            meetingKey,
            incidentId: incident.id,
            nominalId: incident.perpetratorId,
            text: actionTexts[i % actionTexts.length]!,
            ownerId: owner.id,
            agency: owner.agency,
            dueOn: date([-2, 0, 1, 6][i] ?? 3),
            createdBy: actor,
          },
        });
        actions++;
      }
      const panelDay = new Date(now.getTime() + 5 * dayMs);
      panelDay.setUTCHours(10, 0, 0, 0);
      await tx.panel.create({ data: { meetingKey, kind: 'monthly_review', title: 'Demo monthly review panel', startsAt: panelDay, createdBy: actor } });
      await appendAudit(tx, { actor, action: 'seed.demo', channel: 'cli', details: { incidents: incidents.length, flags: flags.length } });
      return { incidents: incidents.length, flags: flags.length, members: members.length, actions, panels: 1 };
    },
    { timeout: 60_000 },
  );
}
