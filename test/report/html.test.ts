// The report as one self-contained HTML file, and its tables as CSV.
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutcomeReport } from '../../src/domain/outcome-report.js';
import { renderCharts, type Chart } from '../../src/report/charts.js';
import { contentSecurityPolicy, renderCsvTables, renderReportHtml } from '../../src/report/html.js';
import { escapeXml, measureInfo } from '../../src/report/text.js';
import { syntheticReport } from './fixture.js';
import { svgNamespace, urlsIn } from './helpers.js';

let charts: Chart[];
let report: OutcomeReport;
let html: string;

beforeAll(async () => {
  report = syntheticReport();
  charts = await renderCharts(report);
  html = renderReportHtml(report, charts);
});

/** The text of the element that starts with `start`, tags stripped. */
function elementText(page: string, start: string, end: string): string {
  const from = page.indexOf(start);
  expect(from, start).toBeGreaterThanOrEqual(0);
  return page.slice(from, page.indexOf(end, from)).replace(/<[^>]*>/g, '');
}

describe('renderReportHtml', () => {
  it('is one HTML document titled with the trial and the date, with a strict content security policy', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en-GB">')).toBe(true);
    expect(html).toContain('<title>Outcome report: test-trial (as of 2031-06-30)</title>');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${escapeXml(contentSecurityPolicy)}">`);
    expect(contentSecurityPolicy).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(html).toContain('<h1>Outcome report: test-trial</h1>');
  });

  it('contains every chart as inline SVG', () => {
    expect(html.match(/<svg\b/g)).toHaveLength(charts.length);
    for (const chart of charts) expect(html).toContain(chart.svg);
  });

  it('refers to nothing outside itself', () => {
    expect(urlsIn(html).filter((u) => u !== svgNamespace)).toEqual([]);
    expect(urlsIn(html).length).toBeGreaterThan(0);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|image|use)\b/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href)=/i);
    expect(html).not.toMatch(/@import|@font-face/i);
    expect(html).not.toMatch(/url\((?!#)/);
    // no scheme-relative address either (//host/...)
    expect(html.split(`"${svgNamespace}"`).join('""').match(/["'(=\s]\/\/[a-z0-9.-]+/gi)).toBeNull();
  });

  it('states each measure with its definition, its table and its effect', () => {
    for (const info of measureInfo) {
      const measure = report.measures[info.key];
      expect(html, info.key).toContain(escapeXml(measure.definition));
      expect(html).toContain(`<section class="measure-section" id="measure-${info.key}">`);
    }
    const offending = elementText(html, '<section class="measure-section" id="measure-offending">', '</section>');
    expect(offending).toContain('EventsPerson-yearsRate per person-year');
    // treatment, pre: 183 events over 61 person-years
    expect(offending).toContain('treatmentPre18361.03.00');
    expect(offending).toContain('ratio of rate ratios 0.81 (95% CI 0.60 to 1.09); n = 120');
    const risk = elementText(html, '<section class="measure-section" id="measure-victimRisk">', '</section>');
    expect(risk).toContain('Mean score (0–10)');
    // control, post: nobody scored, so no mean
    expect(risk).toContain('Post08.5–');
    expect(risk).toContain('difference in mean change -0.90 (95% CI -1.72 to -0.08)');
  });

  it('has a headline with each effect and its interval', () => {
    const headline = elementText(html, '<section id="headline">', '</section>');
    expect(headline).toContain('Offending: ratio of rate ratios 0.81 (95% CI 0.60 to 1.09)');
    expect(headline).toContain('Severity (harm-weighted): ratio of rate ratios 0.73 (95% CI 0.51 to 1.04)');
    expect(headline).toContain('Incidents: ratio of rate ratios 0.89 (95% CI 0.70 to 1.13)');
    expect(headline).toContain('Victim-perceived risk: difference in mean change -0.90 (95% CI -1.72 to -0.08)');
  });

  it('shows a not-available effect by its note, with no number', () => {
    const item = elementText(html, '<li data-measure="referrals">', '</li>');
    expect(item).toBe('Referrals: not available: too few referrals in the control arm during engagement');
    expect(item).not.toMatch(/\d/);
    const section = elementText(html, '<p class="effect">', '</p>');
    expect(section).not.toContain('NaN');
  });

  it('states the method: analysis, periods, person-time, bootstrap and harm weights', () => {
    const method = elementText(html, '<section id="method">', '</section>');
    expect(method).toContain(report.method.analysis);
    for (const text of Object.values(report.method.periods)) expect(method).toContain(text);
    expect(method).toContain(report.method.personTime);
    expect(method).toContain('percentile bootstrap, 2000 resamples, seed 9001');
    expect(method).toContain('Synthetic test harm weights (config/test-harm.yml)');
    expect(method).toContain('seed 4242; strata: area');
  });

  it('shows the CONSORT diagram, drawing it when the charts lack it', () => {
    const consort = charts.find((c) => c.name === 'consort')!;
    expect(elementText(html, '<section id="consort">', '</section>')).toContain('Perpetrators scored');
    const without = renderReportHtml(report, charts.filter((c) => c.name !== 'consort'));
    expect(without).toContain(consort.svg);
  });

  it('escapes a hostile trial name and every other text', () => {
    const hostile = syntheticReport();
    hostile.trial.name = '<script>alert("pwned")</script>';
    hostile.asOf = '2031-06-30<img src=x>';
    hostile.measures.offending.definition = 'offences </p><script>x()</script>';
    hostile.measures.referrals.effect.note = 'few & <b>rare</b>';
    hostile.method.harm = '<style>body{display:none}</style>';
    const page = renderReportHtml(hostile, []);
    expect(page).not.toMatch(/<script|<img|<b>|<style>body/);
    expect(page).toContain('<title>Outcome report: &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; (as of 2031-06-30&lt;img src=x&gt;)</title>');
    expect(page).toContain('<h1>Outcome report: &lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;</h1>');
    expect(page).toContain('not available: few &amp; &lt;b&gt;rare&lt;/b&gt;');
  });

  it('is the same for the same report', async () => {
    const again = syntheticReport();
    expect(renderReportHtml(again, await renderCharts(again))).toBe(html);
  });
});

describe('renderCsvTables', () => {
  const rows = (text: string): Array<Record<string, string>> => parse(text, { columns: true }) as Array<Record<string, string>>;

  it('writes measures.csv: measure, arm, period, events, person_years, rate', () => {
    const tables = renderCsvTables(syntheticReport());
    expect(Object.keys(tables).sort()).toEqual(['consort.csv', 'effects.csv', 'measures.csv']);
    const text = tables['measures.csv']!;
    expect(text.split('\n')[0]).toBe('measure,arm,period,events,person_years,rate');
    const measures = rows(text);
    expect(measures).toHaveLength(measureInfo.length * 2 * 3);
    expect(measures[0]).toEqual({ measure: 'offending', arm: 'treatment', period: 'pre', events: '183', person_years: '61', rate: '3' });
    expect(measures.find((r) => r.measure === 'victimRisk' && r.arm === 'control' && r.period === 'post')).toEqual({
      measure: 'victimRisk',
      arm: 'control',
      period: 'post',
      events: '0',
      person_years: '8.5',
      rate: '',
    });
  });

  it('writes effects.csv with an empty estimate and the note where not available', () => {
    const effects = rows(renderCsvTables(syntheticReport())['effects.csv']!);
    expect(effects.map((r) => r.measure)).toEqual(measureInfo.map((m) => m.key));
    expect(effects.find((r) => r.measure === 'referrals')).toMatchObject({ estimate: '', ci95_low: '', ci95_high: '', n: '120', note: 'too few referrals in the control arm during engagement' });
    expect(effects.find((r) => r.measure === 'offending')).toMatchObject({ effect: 'ratio of rate ratios', estimate: '0.8123', ci95_low: '0.6034', ci95_high: '1.0871' });
    expect(effects.find((r) => r.measure === 'victimRisk')).toMatchObject({ effect: 'difference in mean change', estimate: '-0.9' });
  });

  it('writes consort.csv with every count', () => {
    const consort = rows(renderCsvTables(syntheticReport())['consort.csv']!);
    const count = (stage: string, arm = '', reason = ''): string | undefined =>
      consort.find((r) => r.stage === stage && r.arm === arm && r.reason === reason)?.count;
    expect(count('scored')).toBe('1437');
    expect(count('eligible')).toBe('212');
    expect(count('excluded')).toBe('92');
    expect(count('excluded', '', 'in custody')).toBe('53');
    expect(count('randomised')).toBe('120');
    expect(count('allocated', 'treatment')).toBe('61');
    expect(count('exited', 'control')).toBe('5');
    expect(count('exited', 'treatment', 'deceased')).toBe('1');
    expect(count('analysed', 'control')).toBe('59');
  });

  it('quotes commas and quotes, and defuses spreadsheet formulas in text', () => {
    const report = syntheticReport();
    report.measures.referrals.effect.note = '=HYPERLINK("http://example.invalid","x"), then more';
    const text = renderCsvTables(report)['effects.csv']!;
    expect(rows(text).find((r) => r.measure === 'referrals')!.note).toBe('\'=HYPERLINK("http://example.invalid","x"), then more');
  });
});
