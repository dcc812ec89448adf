// Writes an outcome report to a folder: report.json, report.html, CSV tables and PNG copies of the charts.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { OutcomeReport } from '../domain/outcome-report.js';
import { renderCharts, svgToPng, type Chart } from './charts.js';
import { renderCsvTables, renderReportHtml } from './html.js';

/** report.json as written: no time of generation in it, so the same data and seed give the same bytes. */
export function reportJson(report: OutcomeReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export class ReportFolderError extends Error {
  override name = 'ReportFolderError';
}

export async function writeReport(dir: string, report: OutcomeReport, participants: Array<Record<string, string | number>>): Promise<{ files: string[]; charts: Chart[] }> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw new ReportFolderError(`--out ${dir} is a file, not a folder: name a folder for the report`);
  const charts = await renderCharts(report);
  const files: Array<[string, string | Buffer]> = [
    ['report.json', reportJson(report)],
    ['report.html', renderReportHtml(report, charts)],
    ...Object.entries(renderCsvTables(report)),
    // The only file with references: for analysts, never for chat.
    ['participants.csv', stringify(participants, { header: true, columns: participants.length ? Object.keys(participants[0]!) : ['perpetrator_ref'] })],
    ...charts.map((c): [string, Buffer] => [`${c.name}.png`, svgToPng(c.svg)]),
  ];
  await mkdir(dir, { recursive: true });
  for (const [name, content] of files) await writeFile(path.join(dir, name), content);
  return { files: files.map(([name]) => name), charts };
}
