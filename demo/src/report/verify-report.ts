/**
 * Opens the report in headless Chromium (Debian's chromium through playwright-core) and
 * checks what a person would see: the page loads without errors, every chart has drawn
 * marks, and the numbers shown equal the ledger's.
 */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export interface ReportExpectations {
  /** prosumer name -> final token balance on the ledger */
  finalBalances: Record<string, number>;
  /** hours the audit must flag, as mismatch or unreadable (all others match) */
  flaggedHours: number[];
  chartIds: string[];
  /** Charts that must draw negative values below a labelled zero line (the solar household's net energy). */
  belowZeroCharts?: string[];
  /** The solar household's audit row: how many hours must match (none flagged). */
  netAuditMatches?: number;
  screenshotPath?: string;
}

export const CHROMIUM_PATH = process.env.FLEXPROOF_CHROMIUM ?? '/usr/bin/chromium';

export async function verifyReportInBrowser(reportPath: string, expected: ReportExpectations): Promise<string[]> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium)`);
  const problems: string[] = [];
  // playwright gives the browser a fresh temporary profile and removes it on close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`); });
    const response = await page.goto(`file://${path.resolve(reportPath)}`);
    if (!response?.ok()) problems.push(`report did not load (${response?.status()})`);
    for (const id of expected.chartIds) {
      const marks = await page.locator(`svg#${id} .mark`).count();
      const box = await page.locator(`svg#${id}`).boundingBox();
      if (!box || box.width < 100 || box.height < 100) problems.push(`chart ${id} is not rendered`);
      if (marks === 0) problems.push(`chart ${id} has no data marks`);
    }
    for (const [name, balance] of Object.entries(expected.finalBalances)) {
      const shown = await page.locator(`#settlement tr[data-prosumer="${name}"] td.final`).textContent();
      if (shown === null) problems.push(`settlement row of ${name} missing`);
      else if (Number(shown.replace(/,/g, '')) !== balance) problems.push(`${name}: report shows ${shown}, ledger has ${balance}`);
    }
    const flagged = await page.locator('#audit td[data-row="altered"][data-status="mismatch"], #audit td[data-row="altered"][data-status="unreadable"]').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-hour'))));
    if (JSON.stringify(flagged) !== JSON.stringify(expected.flaggedHours)) {
      problems.push(`audit flags hours ${JSON.stringify(flagged)}, expected ${JSON.stringify(expected.flaggedHours)}`);
    }
    if (expected.netAuditMatches !== undefined) {
      const net = await page.locator('#audit td[data-row="net"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-status')));
      const matched = net.filter((s) => s === 'match').length;
      if (net.some((s) => s === 'mismatch' || s === 'unreadable')) problems.push(`the solar household's audit row flags hours (${JSON.stringify(net)})`);
      if (matched !== expected.netAuditMatches) problems.push(`the solar household's audit row shows ${matched} matching hours, expected ${expected.netAuditMatches}`);
    }
    for (const id of expected.belowZeroCharts ?? []) {
      const below = await page.locator(`svg#${id} .mark`).evaluateAll((marks) => marks.filter((m) => Number(m.getAttribute('data-value')) < 0).length);
      const label = await page.locator(`svg#${id} .below-zero`).count();
      if (below === 0) problems.push(`chart ${id} draws no value below zero`);
      if (label === 0) problems.push(`chart ${id} does not label what is below zero`);
    }
    if (expected.screenshotPath) await page.screenshot({ path: expected.screenshotPath, fullPage: true });
  } finally {
    await browser.close();
  }
  return problems;
}
