// The report's charts: Vega-Lite rendered to SVG in Node, offline and deterministic, and PNG copies.
import { describe, expect, it } from 'vitest';
import {
  chartSpecs,
  collectingLogger,
  estimateTextWidth,
  normaliseSvg,
  refusingLoader,
  renderCharts,
  renderSpec,
  svgToPng,
} from '../../src/report/charts.js';
import { measureInfo } from '../../src/report/text.js';
import { syntheticReport } from './fixture.js';
import { pngSignature, pngSize, svgNamespace, svgSize, urlsIn, xmlProblems } from './helpers.js';

const names = ['rates', 'effects', 'cumulative', 'powerFew', 'consort'];

describe('renderCharts', () => {
  it('renders every chart as a standalone, well-formed SVG', async () => {
    const charts = await renderCharts(syntheticReport());
    expect(charts.map((c) => c.name)).toEqual(names);
    for (const chart of charts) {
      expect(chart.title.length, chart.name).toBeGreaterThan(0);
      expect(chart.svg.startsWith('<svg'), chart.name).toBe(true);
      expect(chart.svg.endsWith('</svg>'), chart.name).toBe(true);
      expect(chart.svg).toContain(`xmlns="${svgNamespace}"`);
      expect(xmlProblems(chart.svg), chart.name).toEqual([]);
      const size = svgSize(chart.svg);
      expect(size.width, chart.name).toBeGreaterThan(100);
      expect(size.height, chart.name).toBeGreaterThan(100);
      expect(urlsIn(chart.svg).filter((u) => u !== svgNamespace), chart.name).toEqual([]);
    }
  });

  it('shows the arms, the measures and the effects', async () => {
    const charts = Object.fromEntries((await renderCharts(syntheticReport())).map((c) => [c.name, c.svg]));
    for (const name of ['rates', 'cumulative', 'consort']) {
      expect(charts[name], name).toContain('treatment');
      expect(charts[name], name).toContain('control');
    }
    for (const info of measureInfo) {
      expect(charts.rates).toContain(`>${info.label}<`);
      expect(charts.effects).toContain(info.label);
    }
    for (const period of ['Pre', 'During', 'Post']) expect(charts.rates).toContain(`>${period}<`);
    expect(charts.effects).toContain('0.81 [0.60, 1.09]');
    expect(charts.effects).toContain('-0.90 [-1.72, -0.08]');
    expect(charts.effects).toContain('not available: too few referrals in the control arm during');
    expect(charts.powerFew).toContain('share of gravity');
    expect(charts.cumulative).toContain('days since enrolment');
  });

  it('gives byte-identical SVG for the same report, whatever was rendered before', async () => {
    const first = await renderCharts(syntheticReport());
    const other = syntheticReport();
    other.trial.arms.push({ name: 'third arm', ratio: 1 });
    await renderCharts(other);
    const second = await renderCharts(syntheticReport());
    expect(second).toEqual(first);
  });

  it('prefixes ids with the chart name, so charts can share a page and renders repeat', async () => {
    // Vega numbers clip paths with a counter that lives as long as the process.
    const clipped = {
      data: { values: [{ a: 1, b: 2 }, { a: 3, b: 9 }] },
      mark: { type: 'bar', clip: true },
      encoding: { x: { field: 'a', type: 'quantitative', scale: { domain: [0, 2] } }, y: { field: 'b', type: 'quantitative' } },
    };
    const first = await renderSpec('clipped', clipped as never);
    const second = await renderSpec('clipped', clipped as never);
    expect(second).toBe(first);
    const ids = [...first.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) expect(id!.startsWith('clipped-'), id).toBe(true);
    for (const [, ref] of first.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(ref);

    for (const chart of await renderCharts(syntheticReport())) {
      for (const [, id] of chart.svg.matchAll(/\sid="([^"]+)"/g)) expect(id!.startsWith(`${chart.name}-`), `${chart.name}: ${id}`).toBe(true);
    }
  });

  it('escapes hostile arm names and notes', async () => {
    const report = syntheticReport();
    const hostile = '<script>alert("x")</script> & co';
    report.trial.arms[0]!.name = hostile;
    report.arms[0]!.name = hostile;
    for (const info of measureInfo) {
      const byArm = report.measures[info.key].byArm as Record<string, unknown>;
      byArm[hostile] = byArm.treatment;
      delete byArm.treatment;
    }
    report.charts.cumulative[hostile] = report.charts.cumulative.treatment!;
    delete report.charts.cumulative.treatment;
    report.consort.allocated = { [hostile]: 61, control: 59 };
    report.measures.referrals.effect.note = 'fewer than <5> & "rare"';
    for (const chart of await renderCharts(report)) {
      expect(chart.svg, chart.name).not.toContain('<script');
      expect(xmlProblems(chart.svg), chart.name).toEqual([]);
    }
    const svgs = (await renderCharts(report)).map((c) => c.svg).join('');
    expect(svgs).toContain('&lt;script&gt;');
    expect(svgs).toContain('fewer than &lt;5&gt; &amp;');
  });

  it('draws charts with nothing to show, saying so', async () => {
    const report = syntheticReport();
    report.charts.cumulative = {};
    report.charts.powerFew = [];
    for (const info of measureInfo) {
      report.measures[info.key].effect = { estimate: null, ci95: null, method: 'none', n: 0, note: `no data for ${info.key}` };
      for (const periods of Object.values(report.measures[info.key].byArm)) {
        for (const cell of Object.values(periods)) {
          cell.personYears = 0;
          cell.rate = null;
        }
      }
    }
    const charts = Object.fromEntries((await renderCharts(report)).map((c) => [c.name, c.svg]));
    expect(charts.cumulative).toContain('no incidents since enrolment yet');
    expect(charts.powerFew).toContain('no scores as of the report date');
    expect(charts.rates).toContain('no person-time yet');
    for (const info of measureInfo) expect(charts.effects).toContain(`not available: no data for ${info.key}`);
  });
});

describe('the Vega-Lite specs', () => {
  it('compile and render without a warning or an error', async () => {
    for (const { name, spec } of chartSpecs(syntheticReport())) {
      const logger = collectingLogger();
      await renderSpec(name, spec, logger);
      expect(logger.messages.filter((m) => m.level === 'warn' || m.level === 'error'), name).toEqual([]);
    }
  });

  it('carry their data inline', () => {
    for (const { name, spec } of chartSpecs(syntheticReport())) expect(JSON.stringify(spec), name).not.toContain('"url"');
  });
});

describe('offline rendering', () => {
  it('refuses to load anything, and fails a chart that asks', async () => {
    const refused: string[] = [];
    const loader = refusingLoader(refused);
    await expect(loader.load('https://example.invalid/data.json')).rejects.toThrow(/offline/);
    await expect(loader.sanitize('data.json', { context: 'dataflow' } as never)).rejects.toThrow(/offline/);
    await expect(loader.http('http://127.0.0.1:9/x', {})).rejects.toThrow(/offline/);
    await expect(loader.file('/etc/hostname')).rejects.toThrow(/offline/);
    expect(refused).toHaveLength(4);

    const spec = {
      data: { url: 'https://example.invalid/data.json' },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' } },
    };
    const fetchCalls: unknown[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((...args: unknown[]) => {
      fetchCalls.push(args);
      return Promise.reject(new Error('no network in tests'));
    }) as typeof fetch;
    try {
      await expect(renderSpec('remote', spec as never)).rejects.toThrow(/asked to load "https:\/\/example\.invalid\/data\.json"/);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(fetchCalls).toEqual([]);
  });
});

describe('normaliseSvg', () => {
  it('renames ids in order of appearance, rounds geometry and drops an unused xlink namespace', () => {
    const raw =
      '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10.123456" height="5">' +
      '<defs><clipPath id="clip7"><rect width="3.0000000000000004" height="2"/></clipPath></defs>' +
      '<g clip-path="url(#clip7)"><path d="M0.333333333,1.5L2,2"/><text>1.23456789</text></g></svg>';
    expect(normaliseSvg(raw, 'demo')).toBe(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10.123" height="5">' +
        '<defs><clipPath id="demo-1"><rect width="3" height="2"/></clipPath></defs>' +
        '<g clip-path="url(#demo-1)"><path d="M0.333,1.5L2,2"/><text>1.23456789</text></g></svg>',
    );
  });
});

describe('estimateTextWidth', () => {
  it('is about half the font size per character for lower-case text, wider in bold', () => {
    const width = estimateTextWidth('treatment', 10);
    expect(width).toBeGreaterThan(9 * 10 * 0.4);
    expect(width).toBeLessThan(9 * 10 * 0.65);
    expect(estimateTextWidth('treatment', 10, true)).toBeGreaterThan(width);
    expect(estimateTextWidth('', 10)).toBe(0);
  });
});

describe('svgToPng', () => {
  it('renders every chart to a PNG twice its size', async () => {
    for (const chart of await renderCharts(syntheticReport())) {
      const png = svgToPng(chart.svg);
      expect(png.subarray(0, 8).equals(pngSignature), chart.name).toBe(true);
      expect(png.length, chart.name).toBeGreaterThan(5_000);
      expect(png.length, chart.name).toBeLessThan(5_000_000);
      const svg = svgSize(chart.svg);
      const size = pngSize(png);
      expect(Math.abs(size.width - 2 * svg.width), chart.name).toBeLessThanOrEqual(1);
      expect(Math.abs(size.height - 2 * svg.height), chart.name).toBeLessThanOrEqual(1);
    }
  });

  it('renders at another scale, and text in a font the system lacks', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="2" y="15" font-family="No Such Font">x</text></svg>';
    const png = svgToPng(svg, 1);
    expect(png.subarray(0, 8).equals(pngSignature)).toBe(true);
    expect(pngSize(png)).toEqual({ width: 40, height: 20 });
  });
});
