// `dmm score` and `dmm trial …`: the analyst's ranking and the trial lead's randomised cohorts.
import { stringify } from 'csv-stringify/sync';
import type { Command } from 'commander';
import { createTrial, openPhase } from './app/create-trial.js';
import { enrolTrial } from './app/enrol-trial.js';
import { excludeFromTrial, exitFromTrial } from './app/leave-trial.js';
import { scoreAsOf } from './app/score-perpetrators.js';
import { trialAllocations, trialBalance, trialRapidity, verifyTrial } from './app/trial-records.js';
import { recordLever } from './app/record-lever.js';
import { TrialRefusal } from './app/trial-errors.js';
import { actorOf } from './app/actor.js';
import { leverCommandFrom } from './domain/commands.js';
import { leverModes, leverOutcomes, scriptVersionOf } from './domain/levers.js';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { harmSettingsOf, leverSettingsOf, scoringSettingsOf, type Config } from './config.js';
import { outcomeReport } from './app/report-outcomes.js';
import { headline } from './report/headline.js';
import { reportJson, writeReport } from './report/write-report.js';
import { Presets, SingleBar } from 'cli-progress';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { localDateOf } from './domain/agenda-window.js';
import { isLocalDate, type LocalDate } from './domain/calendar.js';
import { explainScore, type PowerFew, type RankedScore } from './domain/scoring.js';
import { clockStartingAt, systemClock } from './scheduler/clock.js';
import { appendAuditMany } from './store/audit.js';
import { cliActor, instantOption, meetingOf, settings, UsageError, wholeNumber, withDatabase } from './cli-support.js';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const note = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

function today(config: Config): LocalDate {
  const clock = config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock;
  return localDateOf(clock.now(), meetingOf(config, undefined).timeZone);
}

function dayOption(name: string, value: string | undefined, config: Config): LocalDate {
  if (value === undefined) return today(config);
  if (!isLocalDate(value)) throw new UsageError(`${name} must be a date as YYYY-MM-DD, not "${value}"`);
  return value;
}

function oneFormat(options: { json?: boolean; csv?: boolean }) {
  if (options.json && options.csv) throw new UsageError('choose one of --json and --csv');
}

const fixed = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? '–' : n.toFixed(digits));
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

function powerFewLines(p: PowerFew): string[] {
  return [
    `Power few: of ${p.perpetrators} perpetrators (total gravity ${fixed(p.totalGravity, 1)}),`,
    `  the top 1% (${p.top1.count}) caused ${percent(p.top1.share)} of all gravity,`,
    `  the top 5% (${p.top5.count}) ${percent(p.top5.share)}, the top 10% (${p.top10.count}) ${percent(p.top10.share)}.`,
  ];
}

function scoreRow(s: RankedScore) {
  return {
    rank: s.rank,
    perpetrator_ref: s.ref,
    label: s.label,
    score: s.total,
    recency: s.recency.points,
    frequency: s.frequency.points,
    gravity: s.gravity.points,
    victims: s.victims.points,
    incidents: s.incidents,
    crimes: s.crimes,
    distinct_victims: s.victims.count,
    days_since_latest: s.recency.days,
    eligible: s.eligible,
  };
}

export function addTrialCommands(program: Command): void {
  addReportCommands(program);
  program
    .command('score')
    .description('rank perpetrators by the RFG(V) score of DMM_SCORING_FILE, with each component and the "power few" figures')
    .option('--as-of <YYYY-MM-DD>', 'score as of the end of this day (default: today)')
    .option('--top <N>', 'show only the N highest')
    .option('--json', 'print JSON alone to standard output')
    .option('--csv', 'print CSV (power-few figures go to standard error)')
    .option('--explain <ref>', 'show how one perpetrator\'s score was made')
    .action(async (options: { asOf?: string; top?: string; json?: boolean; csv?: boolean; explain?: string }) => {
      oneFormat(options);
      const config = settings();
      const scoring = scoringSettingsOf(config);
      const asOf = dayOption('--as-of', options.asOf, config);
      const top = options.top === undefined ? undefined : wholeNumber('--top', options.top);
      const meeting = meetingOf(config, undefined);
      await withDatabase(config, async (db) => {
        const scored = await scoreAsOf(db, scoring, asOf, meeting.timeZone);
        for (const warning of scored.warnings) note(`warning: ${warning}`);
        if (options.explain !== undefined) {
          const score = scored.ranking.find((s) => s.ref === options.explain);
          if (!score) throw new UsageError(`${options.explain} has no incidents as a perpetrator in the ${scoring.config.window_months} months to ${asOf}, so no score`);
          await appendAuditMany(db.prisma, [{ actor: cliActor(), action: 'score.explain', subject: score.label, channel: 'cli', details: { asOf, scoringHash: scoring.hash } }]);
          if (options.json) {
            out(JSON.stringify({ asOf, scoringHash: scoring.hash, score: { ...scoreRow(score), explanation: explainScore(scoring.config, score) }, powerFew: scored.powerFew }, null, 2));
            return;
          }
          out(`${score.ref} (${score.label}): rank ${score.rank} of ${scored.ranking.length} as of ${asOf}`);
          for (const line of explainScore(scoring.config, score)) out(`  ${line}`);
          out(`Scoring: ${scoring.source} (${scoring.hash})`);
          for (const line of powerFewLines(scored.powerFew)) out(line);
          return;
        }
        const shown = top === undefined ? scored.ranking : scored.ranking.slice(0, top);
        await appendAuditMany(db.prisma, [{ actor: cliActor(), action: 'score.rank', subject: asOf, channel: 'cli', details: { perpetrators: scored.ranking.length, shown: shown.length, scoringHash: scoring.hash } }]);
        if (options.json) {
          out(
            JSON.stringify(
              {
                asOf,
                window: { start: scored.window.start.toISOString(), end: scored.window.end.toISOString() },
                scoringHash: scoring.hash,
                perpetrators: scored.ranking.length,
                eligible: scored.ranking.filter((s) => s.eligible).length,
                ranking: shown.map(scoreRow),
                powerFew: { perpetrators: scored.powerFew.perpetrators, totalGravity: scored.powerFew.totalGravity, top1: scored.powerFew.top1, top5: scored.powerFew.top5, top10: scored.powerFew.top10 },
                warnings: scored.warnings,
              },
              null,
              2,
            ),
          );
          return;
        }
        if (options.csv) {
          process.stdout.write(stringify(shown.map(scoreRow), { header: true, columns: Object.keys(scoreRow(emptyScore)), cast: { boolean: (value) => String(value) } }));
          for (const line of powerFewLines(scored.powerFew)) note(line);
          return;
        }
        out(`Perpetrators ranked as of ${asOf} (${scored.ranking.length} with incidents in the ${scoring.config.window_months} months to that day; ${scored.ranking.filter((s) => s.eligible).length} eligible for a trial)`);
        out(`Scoring: ${scoring.source} (${scoring.hash})`);
        out(['rank', 'reference', 'label', 'score', 'R', 'F', 'G', 'V', 'incidents', 'eligible'].join('\t'));
        for (const s of shown) {
          out([s.rank, s.ref, s.label, fixed(s.total), fixed(s.recency.points, 1), fixed(s.frequency.points, 1), fixed(s.gravity.points, 1), fixed(s.victims.points, 1), s.incidents, s.eligible ? 'yes' : 'no'].join('\t'));
        }
        for (const line of powerFewLines(scored.powerFew)) out(line);
      });
    });

  const trial = program.command('trial').description('randomised trials of focused deterrence: create, enrol, exclude, exit, allocations, verify, balance');
  trial
    .command('create <name>')
    .description('create a trial; one arm must be "control" (its members stay invisible in chat)')
    .requiredOption('--arms <arms>', 'two or more arms, e.g. treatment,control')
    .option('--ratio <ratio>', 'allocation ratio, e.g. 1:1 (default) or 2:1')
    .option('--strata <kinds>', 'stratify by area and/or score-band, e.g. area,score-band')
    .option('--seed <n>', 'the allocation seed (drawn at random and recorded when not given)')
    .option('--from <YYYY-MM-DD>', "phase 1's first day (default: today)")
    .action(async (name: string, options: { arms: string; ratio?: string; strata?: string; seed?: string; from?: string }) => {
      const config = settings();
      const from = dayOption('--from', options.from, config);
      const created = await withDatabase(config, (db) => createTrial(db, { name, arms: options.arms, ratio: options.ratio, strata: options.strata, seed: options.seed, from, levers: leverSettingsOf(config) }, cliActor()));
      out(
        `Created trial ${created.name}: arms ${created.arms.map((a) => `${a.name} (${a.ratio})`).join(', ')}; ` +
          `strata ${created.strata.length ? created.strata.join(', ') : 'none'}; seed ${created.seed}${options.seed === undefined ? ' (drawn and recorded)' : ''}; phase 1 from ${from}.`,
      );
      out(`Next: dmm trial enrol ${created.name} --as-of <YYYY-MM-DD> --top <N>`);
    });

  trial
    .command('phase <name> <number>')
    .description('open the next phase of a trial, so that more people can be enrolled')
    .requiredOption('--from <YYYY-MM-DD>', "the phase's first day")
    .action(async (name: string, number: string, options: { from: string }) => {
      const config = settings();
      const phase = await withDatabase(config, (db) => openPhase(db, name, wholeNumber('the phase', number), options.from, cliActor()));
      out(`Opened phase ${phase.number} of ${name} from ${options.from}. Enrol it with dmm trial enrol ${name} --as-of <YYYY-MM-DD> --top <N>.`);
    });

  trial
    .command('enrol <name>')
    .description("enrol the N highest-scoring eligible perpetrators into the trial's current phase and randomise them")
    .requiredOption('--as-of <YYYY-MM-DD>', 'score and enrol as of this day (the cohort flag starts that day)')
    .requiredOption('--top <N>', 'how many to enrol')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, options: { asOf: string; top: string; json?: boolean }) => {
      const config = settings();
      const asOf = dayOption('--as-of', options.asOf, config);
      const top = wholeNumber('--top', options.top);
      const meeting = meetingOf(config, undefined);
      const outcome = await withDatabase(config, (db) => enrolTrial(db, scoringSettingsOf(config), meeting.timeZone, { trial: name, asOf, top }, cliActor()));
      if (outcome.kind === 'enrolled') for (const warning of outcome.warnings) note(`warning: ${warning}`);
      if (options.json) {
        out(JSON.stringify(outcome, null, 2));
        return;
      }
      if (outcome.kind === 'unchanged') {
        out(`Phase ${outcome.phase} of ${outcome.trial} was already enrolled as of ${outcome.asOf} (${outcome.enrolled} people); nothing changed.`);
        return;
      }
      if (outcome.enrolled < outcome.requested) out(`Only ${outcome.eligible} perpetrators are eligible, fewer than --top ${outcome.requested}: all of them were enrolled.`);
      out(
        `Enrolled ${outcome.enrolled} into phase ${outcome.phase} of ${outcome.trial} as of ${outcome.asOf}: ` +
          Object.entries(outcome.byArm).map(([arm, n]) => `${arm} ${n}`).join(', ') + '.',
      );
      out(`Treatment-arm members are flagged "cohort" from ${outcome.asOf}; control members get nothing visible. See dmm trial allocations ${outcome.trial}.`);
    });

  trial
    .command('exclude <name> <ref>')
    .description('keep a perpetrator out of a trial before enrolment (e.g. a victim-safety concern)')
    .requiredOption('--reason <text>', 'why')
    .action(async (name: string, ref: string, options: { reason: string }) => {
      const config = settings();
      const result = await withDatabase(config, (db) => excludeFromTrial(db, name, ref, options.reason, cliActor()));
      out(result.message);
    });

  trial
    .command('exit <name> <ref>')
    .description('end an enrolled perpetrator\'s participation; they stay in their arm for the analysis')
    .requiredOption('--on <YYYY-MM-DD>', 'the last day of participation')
    .requiredOption('--reason <reason>', 'safety, custody, moved, died or other')
    .option('--note <text>', 'more detail (kept in the store, not shown in chat)')
    .action(async (name: string, ref: string, options: { on: string; reason: string; note?: string }) => {
      const config = settings();
      out(await withDatabase(config, (db) => exitFromTrial(db, { trial: name, ref, on: options.on, reason: options.reason, note: options.note }, cliActor())));
    });

  trial
    .command('allocations <name>')
    .description('one row per enrolled person: perpetrator_ref, arm, phase, enrolled_on, stratum, exited_on, exit_reason')
    .option('--json', 'print JSON alone to standard output')
    .option('--csv', 'print CSV')
    .option('--reason <text>', 'why the allocations are read (recorded in the audit trail)', 'dmm trial allocations')
    .action(async (name: string, options: { json?: boolean; csv?: boolean; reason: string }) => {
      oneFormat(options);
      const config = settings();
      const rows = await withDatabase(config, (db) => trialAllocations(db, name, cliActor(), options.reason));
      const columns = ['perpetrator_ref', 'arm', 'phase', 'enrolled_on', 'stratum', 'exited_on', 'exit_reason'];
      if (options.json) out(JSON.stringify(rows, null, 2));
      else if (options.csv) process.stdout.write(stringify(rows.map((r) => ({ ...r, exited_on: r.exited_on ?? '', exit_reason: r.exit_reason ?? '' })), { header: true, columns }));
      else {
        out(columns.join('\t'));
        for (const r of rows) out([r.perpetrator_ref, r.arm, r.phase, r.enrolled_on, r.stratum, r.exited_on ?? '', r.exit_reason ?? ''].join('\t'));
        note(`${rows.length} allocation(s).`);
      }
    });

  trial
    .command('verify <name>')
    .description('recompute the allocation from the record (seed, candidates, strata) and say whether it matches')
    .action(async (name: string) => {
      const config = settings();
      const result = await withDatabase(config, (db) => verifyTrial(db, name, cliActor()));
      if (result.ok) {
        out(`Trial ${name}: the ${result.allocations} allocation(s) of ${result.enrolments} enrolment(s) match their recomputation from the recorded seed, candidates and strata, and the audit trail.`);
        return;
      }
      out(`Trial ${name}: the allocation does NOT match its record (${result.problems.length} problem(s)):`);
      for (const p of result.problems) out(`  ${p}`);
      process.exitCode = 1;
    });

  trial
    .command('lever <ref>')
    .description("record a lever (scripted notification) given to a treated perpetrator, as /dmm lever does")
    .requiredOption('--tier <tier>', 'the tier, e.g. C')
    .requiredOption('--mode <mode>', `how it was given: ${leverModes.join(', ')}`)
    .requiredOption('--outcome <outcome>', `${leverOutcomes.join(', ')}`)
    .option('--script <version>', "the script version read (default: the tier's latest)")
    .option('--incident <ref>', 'the incident that triggered it (default: the oldest lever due)')
    .option('--at <ISO>', 'when it was given (default: now)')
    .option('--meeting <key>', 'the meeting whose victim-contact action it opens (default: the first)')
    .action(async (ref: string, options: { tier: string; mode: string; outcome: string; script?: string; incident?: string; at?: string; meeting?: string }) => {
      const config = settings();
      const meeting = meetingOf(config, options.meeting);
      const parsed = leverCommandFrom({ subject: ref, tier: options.tier, mode: options.mode, outcome: options.outcome, incident: options.incident, script: options.script });
      if (!parsed.ok) throw new UsageError(parsed.message);
      const clock = config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock;
      const at = options.at === undefined ? clock.now() : instantOption('--at', options.at);
      if (at.getTime() > clock.now().getTime() + 60_000) throw new UsageError('--at is in the future: record a lever once it has been given');
      const { tier, mode, outcome, script, incident } = parsed.command;
      const result = await withDatabase(config, (db) =>
        recordLever(db, meeting, actorOf('console', os.userInfo().username, null), { subject: ref, tier, mode, outcome, script, incident }, at),
      );
      if (!result.ok) throw new TrialRefusal(result.message);
      out(result.message);
    });

  trial
    .command('rapidity <name>')
    .description('hours from each triggering incident to its delivered lever: median and 90th percentile per tier, and levers overdue now')
    .option('--json', 'print JSON alone to standard output')
    .action(async (name: string, options: { json?: boolean }) => {
      const config = settings();
      const meeting = meetingOf(config, undefined);
      const clock = config.DMM_NOW ? clockStartingAt(config.DMM_NOW) : systemClock;
      const report = await withDatabase(config, (db) => trialRapidity(db, name, meeting.timeZone, clock.now(), cliActor()));
      if (options.json) {
        out(JSON.stringify(report, null, 2));
        return;
      }
      out(`Rapidity of ${report.trial}'s levers (target ${report.targetHours} hours from the incident's report):`);
      out(['tier', 'delivered', 'median hours', '90th percentile', `within ${report.targetHours} h`].join('\t'));
      for (const t of report.tiers) out([t.tier, t.deliveries, fixed(t.medianHours, 1), fixed(t.p90Hours, 1), t.withinTarget].join('\t'));
      out(`Levers due now: ${report.due}, of which overdue: ${report.overdue}.`);
    });

  trial
    .command('scripts')
    .description("the tiers' scripted notifications, every version (a version is the hash of its text)")
    .option('--tier <tier>', 'one tier only')
    .action(async (options: { tier?: string }) => {
      const config = settings();
      const scripts = await withDatabase(config, (db) => db.prisma.leverScript.findMany({ where: options.tier ? { tier: options.tier.toUpperCase() } : {}, orderBy: [{ tier: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] }));
      if (scripts.length === 0) note('No scripts yet: they are added when a trial is created, and by dmm trial script.');
      for (const s of scripts) out(`${s.tier} ${s.version} (added ${s.createdAt.toISOString().slice(0, 10)} by ${s.createdBy}):\n  ${s.text.replace(/\n/g, '\n  ')}`);
    });

  trial
    .command('script <tier>')
    .description("add a new version of a tier's scripted notification from a text file (older versions are kept)")
    .requiredOption('--file <file>', 'the script text')
    .action(async (tier: string, options: { file: string }) => {
      if (!/^[A-Za-z]$/.test(tier)) throw new UsageError(`the tier is one letter, such as C, not "${tier}"`);
      const text = await readFile(options.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${options.file} (${error.code ?? error.message})`);
      });
      if (text.trim() === '' || text.length > 4000) throw new UsageError('the script must hold between 1 and 4,000 characters');
      const config = settings();
      const version = scriptVersionOf(text);
      const created = await withDatabase(config, (db) =>
        db.prisma.$transaction(async (tx) => {
          const result = await tx.leverScript.createMany({ data: [{ tier: tier.toUpperCase(), version, text: text.replace(/\r\n/g, '\n').trim(), createdBy: cliActor() }], skipDuplicates: true });
          if (result.count > 0) await appendAuditMany(tx, [{ actor: cliActor(), action: 'lever.script', subject: tier.toUpperCase(), channel: 'cli', details: { version } }]);
          return result.count > 0;
        }),
      );
      out(created ? `Added version ${version} of tier ${tier.toUpperCase()}'s script; levers now read it unless another version is named.` : `Tier ${tier.toUpperCase()} already has this text as version ${version}; nothing changed.`);
    });

  trial
    .command('balance <name>')
    .description('per arm: count and pre-enrolment means (score, incidents and gravity in the 12 months before), with standardised differences')
    .option('--json', 'print JSON alone to standard output')
    .action(async (name: string, options: { json?: boolean }) => {
      const config = settings();
      const meeting = meetingOf(config, undefined);
      const balance = await withDatabase(config, (db) => trialBalance(db, name, meeting.timeZone, cliActor()));
      if (options.json) {
        out(JSON.stringify(balance, null, 2));
        return;
      }
      out(`Balance of ${balance.trial} at enrolment (means, with standard deviations):`);
      out(['arm', 'n', 'score', 'incidents (12 months before)', 'gravity (12 months before)'].join('\t'));
      for (const a of balance.arms) {
        out([a.arm, a.count, `${fixed(a.score.mean)} (${fixed(a.score.sd)})`, `${fixed(a.incidents.mean)} (${fixed(a.incidents.sd)})`, `${fixed(a.gravity.mean)} (${fixed(a.gravity.sd)})`].join('\t'));
      }
      for (const d of balance.standardisedDifferences) {
        out(`Standardised difference, ${d.arm} vs control: score ${fixed(d.score)}, incidents ${fixed(d.incidents)}, gravity ${fixed(d.gravity)} (|d| > 0.1 suggests imbalance).`);
      }
    });
}

function addReportCommands(program: Command): void {
  program
    .command('report')
    .description('reports for the trial lead')
    .command('outcomes <trial>')
    .description("the trial's outcome report: the protocol's four measures per arm and period, effects with 95% bootstrap intervals, CONSORT flow, charts")
    .requiredOption('--reason <text>', 'why the report is run (recorded in the audit trail with who ran it)')
    .option('--as-of <YYYY-MM-DD>', "the report's day (default: today)")
    .option('--out <dir>', 'the folder to write report.json, report.html, CSV tables and PNG charts to', 'report')
    .option('--json', 'print report.json alone to standard output (and write no files unless --out is given)')
    .option('--resamples <n>', 'bootstrap resamples (at least 2000)', '2000')
    .action(async (name: string, options: { reason: string; asOf?: string; out: string; json?: boolean; resamples: string }, command: Command) => {
      const config = settings();
      const asOf = dayOption('--as-of', options.asOf, config);
      const resamples = wholeNumber('--resamples', options.resamples);
      const outGiven = command.getOptionValueSource('out') === 'cli';
      const writeFiles = !options.json || outGiven;
      if (writeFiles) {
        const existing = await stat(options.out).catch(() => undefined);
        if (existing && !existing.isDirectory()) throw new UsageError(`--out ${options.out} is a file, not a folder: name a folder for the report`);
      }
      const meeting = meetingOf(config, undefined);
      const scoring = scoringSettingsOf(config);
      const reportSettings = { scoring, harm: harmSettingsOf(config, scoring), timeZone: meeting.timeZone };
      const progress = process.stderr.isTTY ? new SingleBar({ format: 'report {bar} {stage}', clearOnComplete: true }, Presets.shades_classic) : undefined;
      progress?.start(3, 0, { stage: `bootstrap (${resamples} resamples)` });
      try {
        const run = await withDatabase(config, (db) => outcomeReport(db, reportSettings, { trial: name, asOf, resamples, reason: options.reason, actor: cliActor(), channel: 'cli' }));
        progress?.update(1, { stage: 'charts' });
        if (writeFiles) {
          const written = await writeReport(options.out, run.report, run.participants as unknown as Array<Record<string, string | number>>);
          progress?.update(3, { stage: 'written' });
          progress?.stop();
          note(`Wrote ${written.files.map((f) => path.join(options.out, f)).join(', ')}.`);
        } else {
          progress?.stop();
        }
        if (options.json) process.stdout.write(reportJson(run.report));
        else out(headline(run.report).join('\n'));
      } finally {
        progress?.stop();
      }
    });
}

const emptyScore = {
  rank: 0,
  ref: '',
  label: '',
  total: 0,
  recency: { points: 0, days: 0 },
  frequency: { points: 0 },
  gravity: { points: 0 },
  victims: { points: 0, count: 0 },
  incidents: 0,
  crimes: 0,
  eligible: false,
} as unknown as RankedScore;
