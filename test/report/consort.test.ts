// The hand-drawn CONSORT flow diagram: every count, escaped text, boxes that do not overlap.
import { describe, expect, it } from 'vitest';
import type { Consort } from '../../src/domain/outcome-report.js';
import { consortSvg, wrapText } from '../../src/report/consort.js';
import { syntheticReport } from './fixture.js';
import { svgNamespace, urlsIn, xmlProblems } from './helpers.js';

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The diagram's boxes (every rect but the background). */
function boxes(svg: string): Rect[] {
  return [...svg.matchAll(/<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    width: Number(m[3]),
    height: Number(m[4]),
  }));
}

function overlap(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** The text of each <text> element, unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&'),
  );
}

describe('consortSvg', () => {
  const consort = syntheticReport().consort;

  it('is a standalone, well-formed SVG with no id and no address but its namespace', () => {
    const svg = consortSvg(consort, ['treatment', 'control']);
    expect(svg.startsWith(`<svg xmlns="${svgNamespace}"`)).toBe(true);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).not.toMatch(/\sid="/);
    expect(urlsIn(svg).filter((u) => u !== svgNamespace)).toEqual([]);
  });

  it('shows every stage, count and reason', () => {
    const lines = texts(consortSvg(consort, ['treatment', 'control']));
    const all = lines.join('\n');
    for (const heading of ['Perpetrators scored', 'Eligible', 'Excluded', 'Randomised', 'Allocated to treatment', 'Allocated to control']) {
      expect(lines).toContain(heading);
    }
    for (const heading of ['Exited (treatment)', 'Exited (control)', 'Analysed (treatment)', 'Analysed (control)']) expect(lines).toContain(heading);
    for (const n of [consort.scored, consort.eligible, consort.excluded.total, consort.randomised]) expect(lines).toContain(`n = ${n}`);
    for (const [reason, n] of Object.entries(consort.excluded.byReason)) expect(lines).toContain(`• ${reason}: ${n}`);
    for (const arm of ['treatment', 'control']) {
      expect(lines).toContain(`n = ${consort.allocated[arm]}`);
      expect(lines).toContain(`n = ${consort.exited[arm]!.total}`);
      expect(lines).toContain(`n = ${consort.analysed[arm]}`);
      for (const [reason, n] of Object.entries(consort.exited[arm]!.byReason)) expect(all).toContain(`• ${reason}: ${n}`);
    }
  });

  it('puts the arms in the order given', () => {
    const lines = texts(consortSvg(consort, ['control', 'treatment']));
    expect(lines.indexOf('Allocated to control')).toBeLessThan(lines.indexOf('Allocated to treatment'));
  });

  it('escapes every piece of text', () => {
    const hostile: Consort = {
      ...consort,
      excluded: { total: 3, byReason: { '<script>alert(1)</script>': 1, 'a & b "c" \'d\'': 2 } },
      allocated: { '<b>arm</b>': 2 },
      exited: { '<b>arm</b>': { total: 1, byReason: { '</svg><svg onload=x>': 1 } } },
      analysed: { '<b>arm</b>': 2 },
    };
    const svg = consortSvg(hostile, []);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
    expect(svg).not.toContain('<svg onload');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('a &amp; b &quot;c&quot; &#39;d&#39;');
    expect(texts(svg)).toContain('Allocated to <b>arm</b>');
  });

  it('keeps boxes apart for one, two or four arms and long reasons', () => {
    for (const arms of [['only'], ['treatment', 'control'], ['a', 'b', 'c', 'd']]) {
      const counts = Object.fromEntries(arms.map((a) => [a, 5]));
      const svg = consortSvg(
        {
          ...consort,
          excluded: { total: 9, byReason: { 'a very long reason for exclusion that has to be wrapped over several lines of the box': 9 } },
          allocated: counts,
          exited: Object.fromEntries(arms.map((a) => [a, { total: 1, byReason: { supercalifragilisticexpialidociousreasonwithoutspaces: 1 } }])),
          analysed: counts,
        },
        arms,
      );
      const found = boxes(svg);
      expect(found).toHaveLength(4 + 3 * arms.length);
      const width = Number(/width="([\d.]+)"/.exec(svg)![1]);
      for (const [i, a] of found.entries()) {
        expect(a.x).toBeGreaterThanOrEqual(0);
        expect(a.x + a.width).toBeLessThanOrEqual(width);
        for (const b of found.slice(i + 1)) expect(overlap(a, b), JSON.stringify([a, b])).toBe(false);
      }
    }
  });

  it('is the same every time', () => {
    expect(consortSvg(consort, ['treatment', 'control'])).toBe(consortSvg(structuredClone(consort), ['treatment', 'control']));
  });
});

describe('wrapText', () => {
  it('breaks at spaces, and breaks a word longer than a line', () => {
    expect(wrapText('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrapText('abcdefghijkl', 5)).toEqual(['abcde', 'fghij', 'kl']);
    expect(wrapText('', 5)).toEqual(['']);
    for (const line of wrapText('a fairly long sentence with a supercalifragilistic word in it', 12)) {
      expect([...line].length).toBeLessThanOrEqual(12);
    }
  });
});
