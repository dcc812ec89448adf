// The outcome report as one self-contained HTML file (inline CSS and SVG, no script, no URL) and its
// tables as CSV. Everything from the model is escaped; the model holds pseudonymous labels only.
import { stringify } from 'csv-stringify/sync';
import type { Effect, OutcomeReport, PeriodName, PeriodRate } from '../domain/outcome-report.js';
import { periodNames } from '../domain/outcome-report.js';
import type { Chart } from './charts.js';
import { consortSvg } from './consort.js';
import {
  armNames,
  effectAvailable,
  effectName,
  effectSummary,
  escapeXml as esc,
  fixed,
  measureInfo,
  periodLabels,
  readable,
} from './text.js';

/** Nothing may be loaded: only inline styles, and images only from data: URLs (there are none). */
export const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const chartDescriptions: Record<string, string> = {
  rates: 'Events per person-year (victim-perceived risk: mean score) in each period, by arm.',
  effects: 'Each measure’s effect with its 95% bootstrap interval; the dashed line is no effect.',
  cumulative: 'Mean incidents per perpetrator since enrolment, by arm.',
  powerFew: 'The share of gravity caused by the highest-scored share of perpetrators; the dashed diagonal is an even spread.',
};

const style = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #111; background: #fff; margin: 0 auto; padding: 1.5rem; max-width: 72rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .75rem; border-bottom: 1px solid #ccc; padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
.as-of { color: #444; margin: 0 0 1rem; }
.headline li { margin: .25rem 0; }
.na { color: #555; font-style: italic; }
.measure { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-start; }
.measure table { flex: 0 0 auto; }
.measure .definition { flex: 1 1 18rem; margin: 0; max-width: 36rem; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; }
th { background: #f3f3f3; text-align: left; }
td.num { text-align: right; }
dl.method { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; }
dl.method dt { font-weight: 600; }
dl.method dd { margin: 0; }
figure { margin: 1.5rem 0; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: #444; font-size: .9rem; margin-top: .35rem; }
@media print { body { max-width: none; } figure { break-inside: avoid; } }
`;

function effectLine(kind: 'rate' | 'risk', effect: Effect): string {
  if (!effectAvailable(effect)) return `<span class="na">${esc(effectSummary(effect))}</span>`;
  const note = effect.note ? ` <span class="na">(${esc(effect.note)})</span>` : '';
  return `${esc(effectName(kind))} ${esc(effectSummary(effect))}; n = ${effect.n}; ${esc(effect.method)}${note}`;
}

function headline(report: OutcomeReport): string {
  const items = measureInfo.map((info) => {
    const effect = report.measures[info.key].effect;
    return `<li data-measure="${esc(info.key)}"><strong>${esc(info.label)}</strong>: ${effectLine(info.kind, effect)}</li>`;
  });
  return `<section id="headline"><h2>Headline</h2><ul class="headline">${items.join('')}</ul></section>`;
}

function armsTable(report: OutcomeReport): string {
  const ratio = new Map(report.trial.arms.map((a) => [a.name, a.ratio]));
  const rows = armNames(report).map((name) => {
    const arm = report.arms.find((a) => a.name === name);
    const py = (p: PeriodName): string => `<td class="num">${fixed(arm?.personYears[p], 1)}</td>`;
    return (
      `<tr><th scope="row">${esc(name)}</th><td class="num">${ratio.get(name) ?? '–'}</td>` +
      `<td class="num">${arm?.n ?? '–'}</td><td class="num">${arm?.exited ?? '–'}</td>${periodNames.map(py).join('')}</tr>`
    );
  });
  const periodHeads = periodNames.map((p) => `<th scope="col">Person-years ${esc(periodLabels[p].toLowerCase())}</th>`).join('');
  return (
    `<table><thead><tr><th scope="col">Arm</th><th scope="col">Allocation ratio</th>` +
    `<th scope="col">Perpetrators</th><th scope="col">Exited</th>${periodHeads}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function measureTable(report: OutcomeReport, info: (typeof measureInfo)[number]): string {
  const measure = report.measures[info.key];
  const byArm = measure.byArm as Record<string, Record<PeriodName, PeriodRate> | undefined>;
  const risk = info.kind === 'risk';
  const heads = risk ? ['Victims scored', 'Person-years', 'Mean score (0–10)'] : ['Events', 'Person-years', 'Rate per person-year'];
  const rows = armNames(report)
    .filter((arm) => byArm[arm] !== undefined)
    .flatMap((arm) =>
      periodNames.map((period, i) => {
        const cell = byArm[arm]?.[period];
        const armCell = i === 0 ? `<th scope="rowgroup" rowspan="${periodNames.length}">${esc(arm)}</th>` : '';
        return (
          `<tr>${armCell}<th scope="row">${esc(periodLabels[period])}</th>` +
          `<td class="num">${cell ? cell.events : '–'}</td><td class="num">${fixed(cell?.personYears, 1)}</td>` +
          `<td class="num">${readable(cell?.rate)}</td></tr>`
        );
      }),
    );
  const table =
    `<table><caption>${esc(info.label)} by arm and period</caption><thead><tr><th scope="col">Arm</th><th scope="col">Period</th>` +
    `${heads.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
  return (
    `<section class="measure-section" id="measure-${esc(info.key)}"><h3>${esc(info.label)}</h3>` +
    `<div class="measure">${table}<p class="definition"><strong>Definition.</strong> ${esc(measure.definition)}</p></div>` +
    `<p class="effect">Effect: ${effectLine(info.kind, measure.effect)}</p></section>`
  );
}

function method(report: OutcomeReport): string {
  const m = report.method;
  const entry = (term: string, text: string): string => `<dt>${esc(term)}</dt><dd>${text}</dd>`;
  const periods = periodNames.map((p) => `<li><strong>${esc(periodLabels[p])}</strong>: ${esc(m.periods[p])}</li>`).join('');
  const strata = report.trial.strata.length > 0 ? report.trial.strata.map(esc).join(', ') : 'none';
  return (
    `<section id="method"><h2>Method</h2><dl class="method">` +
    entry('Analysis', esc(m.analysis)) +
    entry('Periods', `<ul>${periods}</ul>`) +
    entry('Person-time', esc(m.personTime)) +
    entry('Intervals', `${esc(m.bootstrap.interval)} bootstrap, ${m.bootstrap.resamples} resamples, seed ${m.bootstrap.seed}`) +
    entry('Harm weights', esc(m.harm)) +
    entry('Randomisation', `seed ${report.trial.seed}; strata: ${strata}`) +
    `</dl></section>`
  );
}

function figure(chart: Chart): string {
  const description = chartDescriptions[chart.name];
  const caption = description ? `<figcaption>${esc(description)}</figcaption>` : '';
  return `<figure id="chart-${esc(chart.name)}" aria-label="${esc(chart.title)}">${chart.svg}${caption}</figure>`;
}

/**
 * The whole report as one HTML document. `charts` come from `renderCharts` (their SVG is put in as it
 * is); the CONSORT diagram is drawn here if they lack it.
 */
export function renderReportHtml(report: OutcomeReport, charts: readonly Chart[]): string {
  const title = `Outcome report: ${report.trial.name} (as of ${report.asOf})`;
  const consort = charts.find((c) => c.name === 'consort') ?? {
    name: 'consort',
    title: 'CONSORT flow',
    svg: consortSvg(report.consort, armNames(report)),
  };
  const others = charts.filter((c) => c.name !== 'consort');
  return [
    '<!DOCTYPE html>',
    '<html lang="en-GB">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${esc(title)}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>Outcome report: ${esc(report.trial.name)}</h1>`,
    `<p class="as-of">As of ${esc(report.asOf)} (${esc(report.timeZone)}). Pseudonymous and aggregate figures only.</p>`,
    '</header>',
    '<main>',
    headline(report),
    `<section id="arms"><h2>Arms</h2>${armsTable(report)}</section>`,
    `<section id="measures"><h2>Measures</h2>${measureInfo.map((info) => measureTable(report, info)).join('')}</section>`,
    method(report),
    `<section id="consort"><h2>CONSORT flow</h2>${figure(consort)}</section>`,
    `<section id="charts"><h2>Charts</h2>${others.map(figure).join('')}</section>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * A cell that a spreadsheet would take for a formula (=, +, -, @, tab, carriage return) is prefixed
 * with an apostrophe; numbers are left as they are.
 */
function cell(value: string | number | null | undefined): string | number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csv(columns: string[], rows: Array<Array<string | number | null | undefined>>): string {
  return stringify(
    rows.map((row) => row.map(cell)),
    { header: true, columns, record_delimiter: '\n' },
  );
}

/** The report's tables as CSV text, keyed by file name: measures.csv, effects.csv, consort.csv. */
export function renderCsvTables(report: OutcomeReport): Record<string, string> {
  const arms = armNames(report);
  const measureRows = measureInfo.flatMap((info) => {
    const byArm = report.measures[info.key].byArm as Record<string, Record<PeriodName, PeriodRate> | undefined>;
    return arms
      .filter((arm) => byArm[arm] !== undefined)
      .flatMap((arm) =>
        periodNames.map((period) => {
          const c = byArm[arm]?.[period];
          return [info.key, arm, period, c?.events, c?.personYears, c?.rate];
        }),
      );
  });
  const effectRows = measureInfo.map((info) => {
    const e = report.measures[info.key].effect;
    return [info.key, effectName(info.kind), e.estimate, e.ci95?.[0], e.ci95?.[1], e.method, e.n, e.note];
  });
  const c = report.consort;
  const consortRows: Array<Array<string | number>> = [
    ['scored', '', '', c.scored],
    ['eligible', '', '', c.eligible],
    ['excluded', '', '', c.excluded.total],
    ...Object.entries(c.excluded.byReason).map(([reason, n]) => ['excluded', '', reason, n]),
    ['randomised', '', '', c.randomised],
  ];
  const consortArms = [...arms, ...Object.keys(c.allocated), ...Object.keys(c.exited), ...Object.keys(c.analysed)].filter(
    (arm, i, all) => all.indexOf(arm) === i,
  );
  for (const arm of consortArms) consortRows.push(['allocated', arm, '', c.allocated[arm] ?? 0]);
  for (const arm of consortArms) {
    const exited = c.exited[arm];
    consortRows.push(['exited', arm, '', exited?.total ?? 0]);
    for (const [reason, n] of Object.entries(exited?.byReason ?? {})) consortRows.push(['exited', arm, reason, n]);
  }
  for (const arm of consortArms) consortRows.push(['analysed', arm, '', c.analysed[arm] ?? 0]);
  return {
    'measures.csv': csv(['measure', 'arm', 'period', 'events', 'person_years', 'rate'], measureRows),
    'effects.csv': csv(['measure', 'effect', 'estimate', 'ci95_low', 'ci95_high', 'method', 'n', 'note'], effectRows),
    'consort.csv': csv(['stage', 'arm', 'reason', 'count'], consortRows),
  };
}
