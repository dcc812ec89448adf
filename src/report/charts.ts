// The outcome report's charts: Vega-Lite specs rendered to SVG strings in Node (no browser, no
// canvas, nothing fetched), the CONSORT diagram drawn by hand, and PNG copies through resvg.
import { Resvg } from '@resvg/resvg-js';
import type { Loader, LoggerInterface } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import type { OutcomeReport, PeriodName, PeriodRate } from '../domain/outcome-report.js';
import { periodNames } from '../domain/outcome-report.js';
import { consortSvg, wrapText } from './consort.js';
import { armNames, effectAvailable, effectName, fixed, measureInfo, periodLabels, type MeasureInfo } from './text.js';

// Vega and Vega-Lite (some 50 MB of memory) load with the first chart: most dmm processes never draw one.
type Vega = typeof import('vega');

export interface Chart {
  /** A file-name-safe key: rates, effects, cumulative, powerFew, consort. */
  name: string;
  title: string;
  /** A standalone SVG document; its ids (if any) are prefixed with `name`, so several can share one HTML page. */
  svg: string;
}

/** Okabe–Ito colours, distinguishable with the common colour-vision deficiencies; arms take them in trial order. */
const armColours = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

const config = {
  font: 'sans-serif',
  background: '#ffffff',
  padding: 12,
  title: { anchor: 'start', fontSize: 14, offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom', direction: 'horizontal' },
  view: { stroke: '#dddddd' },
} as const;

/**
 * A Vega loader that loads nothing, from the network or the disk: every chart carries its data
 * inline. Each refused address is pushed to `refused`, since Vega only logs a failed load.
 */
export function refusingLoader(refused: string[] = []): Loader {
  const refuse = (what: string): Promise<never> => {
    refused.push(what);
    return Promise.reject(new Error(`the report's charts are rendered offline: refused to load ${JSON.stringify(what)}`));
  };
  return {
    load: (uri) => refuse(uri),
    sanitize: (uri) => refuse(uri),
    http: (uri) => refuse(uri),
    file: (filename) => refuse(filename),
  };
}

export interface LogMessage {
  level: 'error' | 'warn' | 'info' | 'debug';
  text: string;
}

/**
 * A logger that collects what Vega and Vega-Lite would log instead of writing to the console. Vega
 * calls its methods detached from the object, so they close over their state rather than use `this`.
 */
export function collectingLogger(): LoggerInterface & { messages: LogMessage[] } {
  const messages: LogMessage[] = [];
  /** Vega's levels: 0 none, 1 error, 2 warn, 3 info, 4 debug. */
  let level = 2;
  const rank = { error: 1, warn: 2, info: 3, debug: 4 } as const;
  const add = (kind: LogMessage['level'], args: unknown[]): void => {
    if (rank[kind] > level) return;
    messages.push({ level: kind, text: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') });
  };
  const logger = {
    messages,
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error: (...args: unknown[]) => (add('error', args), logger),
    warn: (...args: unknown[]) => (add('warn', args), logger),
    info: (...args: unknown[]) => (add('info', args), logger),
    debug: (...args: unknown[]) => (add('debug', args), logger),
  };
  return logger as LoggerInterface & { messages: LogMessage[] };
}

/**
 * Advance widths of ASCII characters in Helvetica/Arial (Liberation Sans has the same metrics), in
 * thousandths of the font size, from code point 32 to 126.
 */
const sansWidths = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556,
  556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/**
 * The width of a line of sans-serif text, a little generous (DejaVu Sans, a common fallback, is wider
 * than Arial; bold is wider still), so that labels are neither cut short nor overflow.
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    units += code >= 32 && code <= 126 ? sansWidths[code - 32]! : 600;
  }
  return (units / 1000) * fontSize * 1.08 * (bold ? 1.08 : 1);
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

/**
 * Vega measures text with a canvas when the optional `canvas` package is there and otherwise guesses
 * 0.8 of the font size per character, which is twice too wide for most text: labels get cut short
 * and charts get wide margins. Both would make the layout depend on what is installed, so every render
 * sets Vega's measure to the table above.
 */
function useTextEstimate(vega: Vega): void {
  const metrics = (vega as unknown as { textMetrics?: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  if (!metrics) return;
  metrics.width = (item, text) => {
    const size = item.fontSize === undefined ? 11 : Number(item.fontSize) || 0;
    const weight = item.fontWeight;
    const bold = weight === 'bold' || weight === 'bolder' || (typeof weight === 'number' && weight >= 600) || weight === '600' || weight === '700';
    const width = estimateTextWidth(text === null || text === undefined ? '' : String(text).trim(), size, bold);
    return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
}

/**
 * The specs are built as plain objects: Vega-Lite's types for nested layers and concatenations are
 * too deep to state here, so the tests check instead that every spec compiles without a warning.
 */
function vl(spec: object): TopLevelSpec {
  return spec as TopLevelSpec;
}

function finite(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

function armScale(arms: string[]): { domain: string[]; range: string[] } {
  return { domain: arms, range: arms.map((_, i) => armColours[i % armColours.length]!) };
}

/** A text layer that says why a chart has nothing to draw. */
function emptyNote(text: string): Record<string, unknown> {
  return {
    data: { values: [{ text }] },
    mark: { type: 'text', align: 'left', baseline: 'top', color: '#666666', fontStyle: 'italic' },
    encoding: { x: { value: 8 }, y: { value: 8 }, text: { field: 'text', type: 'nominal' } },
  };
}

function ratesSpec(report: OutcomeReport, arms: string[]): TopLevelSpec {
  const periodOrder = periodNames.map((p) => periodLabels[p]);
  const panels = measureInfo.map((info) => {
    const byArm = report.measures[info.key].byArm as Record<string, Record<PeriodName, PeriodRate> | undefined>;
    const values = arms.flatMap((arm) =>
      periodNames.flatMap((period) => {
        const cell = byArm[arm]?.[period];
        const rate = finite(cell?.rate);
        return rate === null ? [] : [{ arm, period: periodLabels[period], rate }];
      }),
    );
    const y =
      info.kind === 'rate'
        ? { field: 'rate', type: 'quantitative', title: 'per person-year' }
        : { field: 'rate', type: 'quantitative', title: 'mean score (0–10)', scale: { domain: [0, 10] } };
    return {
      title: info.label,
      width: 200,
      height: 160,
      layer: [
        {
          data: { values },
          mark: { type: 'bar' },
          encoding: {
            x: { field: 'period', type: 'nominal', sort: periodOrder, scale: { domain: periodOrder }, title: null, axis: { labelAngle: 0 } },
            xOffset: { field: 'arm', type: 'nominal', sort: arms, scale: { domain: arms } },
            y,
            color: { field: 'arm', type: 'nominal', scale: armScale(arms), title: 'Arm' },
          },
        },
        ...(values.length === 0 ? [emptyNote('no person-time yet')] : []),
      ],
    };
  });
  return vl({
    title: 'Rates per period, by arm',
    config,
    columns: 3,
    concat: panels,
    resolve: { scale: { color: 'shared' }, legend: { color: 'shared' } },
  });
}

interface EffectRow {
  label: string;
  available: boolean;
  estimate: number | null;
  lo: number | null;
  hi: number | null;
  summary: string;
  /** Why the estimate is not available, wrapped to fit its row (the HTML has it whole). */
  noteLines: string[];
}

/** At most two lines of about 60 characters, the second cut short with an ellipsis. */
function noteLines(note: string): string[] {
  const lines = wrapText(note, 60);
  if (lines.length <= 2) return lines;
  const second = lines[1]!;
  return [lines[0]!, `${[...second].slice(0, 59).join('')}…`];
}

function effectRows(report: OutcomeReport, infos: MeasureInfo[]): EffectRow[] {
  return infos.map((info) => {
    const effect = report.measures[info.key].effect;
    const label = `${info.label} (n = ${effect.n})`;
    if (!effectAvailable(effect)) {
      const note = `not available${effect.note ? `: ${effect.note}` : ''}`;
      return { label, available: false, estimate: null, lo: null, hi: null, summary: '', noteLines: noteLines(note) };
    }
    const lo = finite(effect.ci95?.[0]);
    const hi = finite(effect.ci95?.[1]);
    const summary = lo !== null && hi !== null ? `${fixed(effect.estimate, 2)} [${fixed(lo, 2)}, ${fixed(hi, 2)}]` : `${fixed(effect.estimate, 2)} (no interval)`;
    return { label, available: true, estimate: effect.estimate, lo, hi, summary, noteLines: [] };
  });
}

/** The x domain of a forest panel: every estimate and bound and the reference, padded; log when all are positive. */
function forestScale(rows: EffectRow[], reference: number, preferLog: boolean): { type: 'log' | 'linear'; domain: [number, number] } {
  const values = [reference, ...rows.flatMap((r) => [r.estimate, r.lo, r.hi].filter((v): v is number => v !== null))];
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (preferLog && min > 0) {
    const low = Math.min(min, reference / 1.25);
    const high = Math.max(max, reference * 1.25);
    return { type: 'log', domain: [low / 1.1, high * 1.1] };
  }
  const span = max - min || 1;
  return { type: 'linear', domain: [min - span * 0.1, max + span * 0.1] };
}

function forestPanel(title: string, rows: EffectRow[], reference: number, preferLog: boolean): Record<string, unknown> {
  const width = 380;
  const fitted = forestScale(rows, reference, preferLog);
  const scale = fitted.type === 'log' ? { ...fitted, nice: false } : { ...fitted, nice: false, zero: false };
  const labels = rows.map((r) => r.label);
  const y = { field: 'label', type: 'nominal', sort: labels, scale: { domain: labels }, title: null, axis: { labelLimit: 0 } };
  const x = { field: 'estimate', type: 'quantitative', scale, title: null };
  return {
    title,
    width,
    height: { step: 30 },
    data: { values: rows },
    layer: [
      {
        mark: { type: 'rule', color: '#888888', strokeDash: [4, 4] },
        encoding: { x: { datum: reference, type: 'quantitative', scale } },
      },
      {
        transform: [{ filter: 'datum.available && datum.lo !== null && datum.hi !== null' }],
        mark: { type: 'rule', color: '#333333', strokeWidth: 1.5 },
        encoding: { x: { field: 'lo', type: 'quantitative', scale, title: null }, x2: { field: 'hi' }, y },
      },
      {
        transform: [{ filter: 'datum.available' }],
        mark: { type: 'point', filled: true, size: 70, color: '#0072B2', opacity: 1 },
        encoding: { x, y },
      },
      {
        transform: [{ filter: 'datum.available' }],
        mark: { type: 'text', align: 'left', dx: 8 },
        encoding: { x: { value: width }, y, text: { field: 'summary', type: 'nominal' } },
      },
      // Vega puts a multi-line text's first line at the anchor: a two-line note starts half a line up.
      ...[1, 2].map((count) => ({
        transform: [{ filter: `!datum.available && length(datum.noteLines) === ${count}` }],
        mark: { type: 'text', align: 'left', baseline: 'middle', dy: -((count - 1) * 13) / 2, color: '#555555', fontStyle: 'italic', lineHeight: 13 },
        encoding: { x: { value: 6 }, y, text: { field: 'noteLines' } },
      })),
    ],
  };
}

function effectsSpec(report: OutcomeReport): TopLevelSpec {
  const rates = measureInfo.filter((m) => m.kind === 'rate');
  const risks = measureInfo.filter((m) => m.kind === 'risk');
  return vl({
    title: 'Effects with 95% intervals',
    config,
    vconcat: [
      forestPanel(`Rate measures: ${effectName('rate')} (reference 1)`, effectRows(report, rates), 1, true),
      forestPanel(`Victim-perceived risk: ${effectName('risk')} (reference 0)`, effectRows(report, risks), 0, false),
    ],
  });
}

function cumulativeSpec(report: OutcomeReport, arms: string[]): TopLevelSpec {
  const values = arms.flatMap((arm) =>
    (report.charts.cumulative[arm] ?? []).flatMap((point) => {
      const day = finite(point.day);
      const mean = finite(point.meanIncidents);
      return day === null || mean === null ? [] : [{ arm, day, meanIncidents: mean }];
    }),
  );
  return vl({
    title: 'Cumulative incidents since enrolment, by arm',
    config,
    width: 520,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: {
          x: { field: 'day', type: 'quantitative', title: 'days since enrolment' },
          y: { field: 'meanIncidents', type: 'quantitative', title: 'mean incidents per perpetrator' },
          color: { field: 'arm', type: 'nominal', scale: armScale(arms), title: 'Arm' },
        },
      },
      ...(values.length === 0 ? [emptyNote('no incidents since enrolment yet')] : []),
    ],
  });
}

function powerFewSpec(report: OutcomeReport): TopLevelSpec {
  const values = report.charts.powerFew.flatMap((point) => {
    const p = finite(point.perpetratorShare);
    const g = finite(point.gravityShare);
    return p === null || g === null ? [] : [{ perpetratorShare: p, gravityShare: g }];
  });
  const x = { field: 'perpetratorShare', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' }, title: 'share of perpetrators (highest score first)' };
  const y = { field: 'gravityShare', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '.0%' }, title: 'share of gravity' };
  return vl({
    title: 'Power few: share of perpetrators against share of gravity',
    config,
    width: 320,
    height: 320,
    layer: [
      {
        data: { values: [{ perpetratorShare: 0, gravityShare: 0 }, { perpetratorShare: 1, gravityShare: 1 }] },
        mark: { type: 'line', color: '#999999', strokeDash: [4, 4], strokeWidth: 1 },
        encoding: { x, y },
      },
      {
        data: { values },
        mark: { type: 'line', color: '#0072B2', strokeWidth: 2 },
        encoding: { x, y },
      },
      ...(values.length === 0 ? [emptyNote('no scores as of the report date')] : []),
    ],
  });
}

/** The Vega-Lite specs of the report's library-drawn charts, in the order they are shown. */
export function chartSpecs(report: OutcomeReport): Array<{ name: string; title: string; spec: TopLevelSpec }> {
  const arms = armNames(report);
  return [
    { name: 'rates', title: 'Rates per period, by arm', spec: ratesSpec(report, arms) },
    { name: 'effects', title: 'Effects with 95% intervals', spec: effectsSpec(report) },
    { name: 'cumulative', title: 'Cumulative incidents since enrolment, by arm', spec: cumulativeSpec(report, arms) },
    { name: 'powerFew', title: 'Power few: share of perpetrators against share of gravity', spec: powerFewSpec(report) },
  ];
}

const geometryAttributes = /\s(d|transform|x|y|x1|x2|y1|y2|cx|cy|r|width|height|points|viewBox)="([^"]*)"/g;

function roundGeometry(value: string): string {
  return value.replace(/-?\d+\.\d{4,}(?:e[-+]?\d+)?/g, (n) => {
    const rounded = Number(Number.parseFloat(n).toFixed(3));
    return String(Object.is(rounded, -0) ? 0 : rounded);
  });
}

/**
 * Makes Vega's SVG stable and fit to share a page: ids (clip paths, gradients: numbered by a counter
 * that lives as long as the process) become `<name>-<n>` in order of appearance, geometry is rounded
 * to 3 decimals (so last-digit floating-point noise cannot differ), and the unused xlink namespace goes.
 */
export function normaliseSvg(svg: string, name: string): string {
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\sid="([^"]+)"/g)) {
    const id = match[1]!;
    if (!ids.has(id)) ids.set(id, `${name}-${ids.size + 1}`);
  }
  let out = svg.replace(geometryAttributes, (_all, attr: string, value: string) => ` ${attr}="${roundGeometry(value)}"`);
  if (ids.size > 0) {
    out = out.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (all, prefix: string, id: string) => {
      const renamed = ids.get(id);
      return renamed === undefined ? all : `${prefix}${renamed}`;
    });
  }
  const withoutXlink = out.replace(/\sxmlns:xlink="[^"]*"/, '');
  return withoutXlink.includes('xlink:') ? out : withoutXlink;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string headlessly, offline; fails if it asks to load anything. */
export async function renderSpec(name: string, spec: TopLevelSpec, logger: LoggerInterface = collectingLogger()): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  useTextEstimate(vega);
  const vegaSpec = compile(spec, { logger }).spec;
  const refused: string[] = [];
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none', loader: refusingLoader(refused), logger });
  try {
    const svg = await view.toSVG();
    if (refused.length > 0) {
      throw new Error(`chart ${name} asked to load ${refused.map((r) => JSON.stringify(r)).join(', ')}: charts carry their data inline`);
    }
    return normaliseSvg(svg, name);
  } finally {
    view.finalize();
  }
}

/** Every chart of the report as SVG, in the order the HTML shows them; the same report gives the same bytes. */
export async function renderCharts(report: OutcomeReport): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const { name, title, spec } of chartSpecs(report)) {
    charts.push({ name, title, svg: await renderSpec(name, spec) });
  }
  charts.push({ name: 'consort', title: 'CONSORT flow', svg: consortSvg(report.consort, armNames(report)) });
  return charts;
}

/**
 * A PNG copy of an SVG chart on a white background, at `scale` times its size. Fonts come from the
 * system; where there are none the text is left out rather than the conversion failing.
 */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}
