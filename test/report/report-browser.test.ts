// The HTML report in a real headless browser (Debian's Chromium through playwright-core): it loads
// nothing but itself and draws every chart.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCharts, type Chart } from '../../src/report/charts.js';
import { renderReportHtml } from '../../src/report/html.js';
import { syntheticReport } from './fixture.js';

const chromiumPath = '/usr/bin/chromium';

let browser: Browser;
let dir: string;
let pageUrl: string;
let charts: Chart[];

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is not at ${chromiumPath}: install Debian's package with \`apt-get install chromium\``);
  }
  const report = syntheticReport();
  charts = await renderCharts(report);
  dir = await mkdtemp(join(tmpdir(), 'dmm-report-'));
  const file = join(dir, 'report.html');
  await writeFile(file, renderReportHtml(report, charts));
  pageUrl = pathToFileURL(file).href;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // As root (CI) Chromium needs its sandbox off; no network is reachable from the page anyway.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Opens `url` with every request routed: the page itself goes through, anything else is recorded and aborted. */
async function openRouted(url: string, options: { bypassCSP: boolean }): Promise<{ page: Page; others: string[]; problems: string[] }> {
  const context = await browser.newContext({ bypassCSP: options.bypassCSP, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const others: string[] = [];
  const problems: string[] = [];
  const note = (requested: string): void => {
    if (requested !== url && !others.includes(requested)) others.push(requested);
  };
  await page.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested === url) return route.continue();
    note(requested);
    return route.abort();
  });
  // Requests that routing might not see (a service worker's, say) are still requests.
  page.on('request', (request) => note(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(url, { waitUntil: 'load' });
  return { page, others, problems };
}

describe('the HTML report in Chromium', () => {
  it('notices a request, so that the next tests mean something', async () => {
    const probe = join(dir, 'probe.html');
    await writeFile(probe, '<!DOCTYPE html><title>probe</title><img src="http://127.0.0.1:9/pixel.png" alt="">');
    const url = pathToFileURL(probe).href;
    const { page, others } = await openRouted(url, { bypassCSP: true });
    await page.context().close();
    expect(others).toEqual(['http://127.0.0.1:9/pixel.png']);
  });

  it('makes no request but for the page itself, even with its content security policy off', async () => {
    const { page, others, problems } = await openRouted(pageUrl, { bypassCSP: true });
    await page.context().close();
    expect(others).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('keeps to its content security policy, has its title and draws every chart', async () => {
    const { page, others, problems } = await openRouted(pageUrl, { bypassCSP: false });
    try {
      expect(await page.title()).toBe('Outcome report: test-trial (as of 2031-06-30)');
      const svgs = page.locator('figure > svg');
      expect(await svgs.count()).toBe(charts.length);
      for (const chart of charts) {
        const svg = page.locator(`#chart-${chart.name} > svg`);
        await svg.scrollIntoViewIfNeeded();
        const box = await svg.boundingBox();
        expect(box, chart.name).not.toBeNull();
        expect(box!.width, chart.name).toBeGreaterThan(100);
        expect(box!.height, chart.name).toBeGreaterThan(100);
      }
      expect(await page.locator('li[data-measure="referrals"]').innerText()).toContain('not available');
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
      expect(others).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
