// The CONSORT flow diagram as a hand-built SVG: boxes and arrows from scoring to analysis, per arm.
// Pure and deterministic (no ids, no randomness, no fonts fetched); every piece of text is escaped.
import type { Consort } from '../domain/outcome-report.js';
import { escapeXml } from './text.js';

const font = 12;
const lineHeight = 16;
const pad = 8;
const boxWidth = 230;
const gapX = 24;
const gapY = 30;
const sideGap = 40;
const margin = 16;
const titleHeight = 28;
/** Characters per line, from a generous average glyph width so that text stays inside its box. */
const maxChars = Math.floor((boxWidth - 2 * pad) / (font * 0.6));

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  lines: string[];
  /** How many of the first lines are the heading, drawn bold. */
  bold: number;
}

/** Splits text into lines of at most `width` characters, at spaces where it can. */
export function wrapText(text: string, width = maxChars): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    let rest = word;
    while ([...rest].length > width) {
      if (line) {
        lines.push(line);
        line = '';
      }
      const chars = [...rest];
      lines.push(chars.slice(0, width).join(''));
      rest = chars.slice(width).join('');
    }
    if (!rest) continue;
    if (!line) line = rest;
    else if ([...line].length + 1 + [...rest].length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

interface BoxText {
  lines: string[];
  bold: number;
}

function boxLines(heading: string, count: number, reasons?: Record<string, number>): BoxText {
  const head = wrapText(heading);
  const lines = [...head, `n = ${count}`];
  for (const [reason, n] of Object.entries(reasons ?? {})) lines.push(...wrapText(`• ${reason}: ${n}`));
  return { lines, bold: head.length };
}

function box(text: BoxText, centreX: number, y: number): Box {
  return { x: centreX - boxWidth / 2, y, w: boxWidth, h: 2 * pad + text.lines.length * lineHeight, ...text };
}

function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function drawBox(b: Box): string {
  const text = b.lines
    .map((line, i) => {
      const weight = i < b.bold ? ' font-weight="bold"' : '';
      const y = b.y + pad + (i + 1) * lineHeight - 4;
      return `<text x="${num(b.x + pad)}" y="${num(y)}"${weight}>${escapeXml(line)}</text>`;
    })
    .join('');
  return `<g><rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" rx="3" fill="#ffffff" stroke="#333333"/>${text}</g>`;
}

function line(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="#333333" stroke-width="1.5"/>`;
}

/** A line with an arrowhead at its end; arrows here are vertical (down) or horizontal (right). */
function arrow(x1: number, y1: number, x2: number, y2: number): string {
  const head = 6;
  const points =
    x1 === x2
      ? [[x2, y2], [x2 - head / 1.5, y2 - head], [x2 + head / 1.5, y2 - head]]
      : [[x2, y2], [x2 - head, y2 - head / 1.5], [x2 - head, y2 + head / 1.5]];
  const back = x1 === x2 ? line(x1, y1, x2, y2 - head) : line(x1, y1, x2 - head, y2);
  return `${back}<polygon points="${points.map(([x, y]) => `${num(x!)},${num(y!)}`).join(' ')}" fill="#333333"/>`;
}

/** The arms in `order` first, then any other arm the counts name. */
function consortArms(consort: Consort, order: readonly string[]): string[] {
  const arms: string[] = [];
  for (const name of [
    ...order,
    ...Object.keys(consort.allocated),
    ...Object.keys(consort.exited),
    ...Object.keys(consort.analysed),
  ]) {
    if (!arms.includes(name)) arms.push(name);
  }
  return arms;
}

/**
 * Scored → eligible → (excluded, by reason) → randomised → allocated per arm → exited per arm (by
 * reason) → analysed per arm, as a standalone SVG document.
 */
export function consortSvg(consort: Consort, armOrder: readonly string[] = []): string {
  const arms = consortArms(consort, armOrder);
  const columns = Math.max(arms.length, 1);
  const armsWidth = columns * boxWidth + (columns - 1) * gapX;
  const centre = margin + Math.max(armsWidth / 2, boxWidth / 2);
  const sideCentre = centre + boxWidth / 2 + sideGap + boxWidth / 2;
  const width = Math.max(margin + armsWidth, sideCentre + boxWidth / 2) + margin;

  const parts: string[] = [];
  let y = margin + titleHeight;

  const scored = box(boxLines('Perpetrators scored', consort.scored), centre, y);
  y += scored.h + gapY;
  const eligible = box(boxLines('Eligible', consort.eligible), centre, y);
  y += eligible.h;
  const excluded = box(boxLines('Excluded', consort.excluded.total, consort.excluded.byReason), sideCentre, 0);
  const sideSpace = excluded.h + 2 * (gapY / 2);
  excluded.y = y + gapY / 2;
  const branchY = excluded.y + excluded.h / 2;
  y += Math.max(2 * gapY, sideSpace);
  const randomised = box(boxLines('Randomised', consort.randomised), centre, y);
  y += randomised.h;

  parts.push(drawBox(scored), arrow(centre, scored.y + scored.h, centre, eligible.y));
  parts.push(drawBox(eligible), arrow(centre, eligible.y + eligible.h, centre, randomised.y));
  parts.push(arrow(centre, branchY, excluded.x, branchY), drawBox(excluded), drawBox(randomised));

  const armCentre = (i: number): number => centre - armsWidth / 2 + boxWidth / 2 + i * (boxWidth + gapX);
  const splitY = y + gapY / 2;
  y += gapY;
  if (arms.length > 0) {
    parts.push(line(centre, randomised.y + randomised.h, centre, splitY));
    parts.push(line(Math.min(centre, armCentre(0)), splitY, Math.max(centre, armCentre(arms.length - 1)), splitY));
  }

  const rows: Array<(arm: string) => BoxText> = [
    (arm) => boxLines(`Allocated to ${arm}`, consort.allocated[arm] ?? 0),
    (arm) => boxLines(`Exited (${arm})`, consort.exited[arm]?.total ?? 0, consort.exited[arm]?.byReason),
    (arm) => boxLines(`Analysed (${arm})`, consort.analysed[arm] ?? 0),
  ];
  let previous: Box[] = [];
  for (const [r, linesFor] of rows.entries()) {
    const boxes = arms.map((arm, i) => box(linesFor(arm), armCentre(i), y));
    boxes.forEach((b, i) => {
      const x = armCentre(i);
      const above = previous[i];
      parts.push(r === 0 || !above ? arrow(x, splitY, x, b.y) : arrow(x, above.y + above.h, x, b.y), drawBox(b));
    });
    y += Math.max(0, ...boxes.map((b) => b.h)) + gapY;
    previous = boxes;
  }
  const height = y - gapY + margin;

  const title = `<text x="${num(margin)}" y="${num(margin + 14)}" font-size="14" font-weight="bold">CONSORT flow</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" role="img" aria-label="CONSORT flow diagram">` +
    `<title>CONSORT flow diagram</title>` +
    `<rect width="${num(width)}" height="${num(height)}" fill="#ffffff"/>` +
    `<g font-family="sans-serif" font-size="${font}" fill="#000000">${title}${parts.join('')}</g>` +
    `</svg>`
  );
}
