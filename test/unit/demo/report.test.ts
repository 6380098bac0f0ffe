import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { renderReport } from '../../../demo/src/report/html-report';
import type { DemoReportModel } from '../../../demo/src/report/report-model';
import { verifyReportInBrowser } from '../../../demo/src/report/verify-report';

function sampleModel(): DemoReportModel {
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return {
    title: 'flexproof demo <day>',
    generatedAt: '2026-11-21T10:00:00Z',
    parameters: { prosumers: 3, secondsPerHour: 4, circuitId: 'flexdev-v1-r4' },
    prosumers: [
      {
        // A household with solar on the net energy circuit: exports at noon, asked to export less.
        name: 'Sol', meterId: 'm-s', prosumerId: 'p-s', enrollmentId: 'e-s', compliance: 1, circuitId: 'flexnet-v2-r4.x', netEnergy: true,
        requestWh: hours.map((h) => (h >= 10 && h <= 14 ? -1500 : 700)), actualWh: hours.map((h) => (h >= 10 && h <= 14 ? -1520 : 690)),
        deviationWh: hours.map((h) => (h >= 10 && h <= 14 ? 20 : 10)), outcomes: hours.map(() => 'verified'),
        tokensOverDay: [2400, ...hours.map(() => 2400)],
      },
      {
        name: 'Ada', meterId: 'm-a', prosumerId: 'p-a', enrollmentId: 'e-a', compliance: 1,
        requestWh: hours.map(() => 1000), actualWh: hours.map((h) => 1000 + (h === 5 ? 60 : 0)),
        deviationWh: hours.map((h) => (h === 5 ? 60 : 0)), outcomes: hours.map(() => 'verified'),
        tokensOverDay: [2400, ...hours.map((h) => (h >= 5 ? 2300 : 2400))],
      },
      {
        name: 'Bo', meterId: 'm-b', prosumerId: 'p-b', enrollmentId: 'e-b', compliance: 0.5, tamperAtHour: 10,
        requestWh: hours.map(() => 800), actualWh: hours.map(() => 900),
        deviationWh: hours.map((h) => (h < 10 ? 100 : null)),
        outcomes: hours.map((h) => (h < 10 ? 'verified' : h === 10 ? 'invalidProof' : 'excluded')),
        tokensOverDay: [2400, ...hours.map((h) => (h < 10 ? 2400 - (h + 1) * 180 : 0))],
      },
    ],
    settlement: [
      { name: 'Sol', reward: 2400, penalties: 0, forfeited: 0, claimed: 0, released: 2400, finalBalance: 2400, status: 'closed' },
      { name: 'Ada', reward: 2400, penalties: 100, forfeited: 0, claimed: 0, released: 2300, finalBalance: 2300, status: 'closed' },
      { name: 'Bo', reward: 2400, penalties: 1800, forfeited: 600, claimed: 0, released: 0, finalBalance: 0, status: 'excluded' },
    ],
    order: { orderId: 'o-1', price: 5000, penalty: 1200, aggregatorReceived: 3800, dsoRefund: 1200 },
    supply: { minted: 200000, burned: 0, outstanding: 200000, sumOfAccounts: 200000 },
    audit: { prosumer: 'Ada', enrollmentId: 'e-a', alteredHour: 8, periods: hours.map((h) => ({ periodIndex: h, status: h === 8 ? 'mismatch' : 'match' })) },
    netAudit: { prosumer: 'Sol', enrollmentId: 'e-s', periods: hours.map((h) => ({ periodIndex: h, status: 'match' })) },
    transactions: [{ time: '10:00:01', txId: 'abc123', org: 'DsoMSP', transaction: 'RegisterMeter', detail: 'm-a <script>' }],
    stages: [{ name: 'network', seconds: 6.2 }],
  };
}

describe('demo report (rendered HTML checked in headless Chromium)', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  const charts = ['chart-balances', 'chart-deviation', 'chart-private-0', 'chart-private-1', 'chart-private-2'];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-report-'));
    file = path.join(dir, 'report.html');
    writeFileSync(file, renderReport(sampleModel()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('escapes text taken from the data', () => {
    const html = renderReport(sampleModel());
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('m-a &lt;script&gt;'));
  });

  it('loads, draws every chart, and shows the expected balances and audit result', async () => {
    const screenshot = path.join(dir, 'report.png');
    const problems = await verifyReportInBrowser(file, {
      finalBalances: { Sol: 2400, Ada: 2300, Bo: 0 }, flaggedHours: [8], chartIds: charts, screenshotPath: screenshot,
      belowZeroCharts: ['chart-private-0'], netAuditMatches: 24,
    });
    assert.deepEqual(problems, []);
    assert.ok(statSync(screenshot).size > 10_000);
  });

  it("draws the solar household's net energy with exports below a labelled zero line", () => {
    const html = renderReport(sampleModel());
    const chart = html.slice(html.indexOf('id="chart-private-0"'), html.indexOf('</svg>', html.indexOf('id="chart-private-0"')));
    assert.match(chart, /data-series="measured net" data-x="12" data-value="-1520"/);
    assert.match(chart, /data-series="requested net" data-x="12" data-value="-1500"/);
    assert.match(chart, /class="below-zero"[^>]*>▼ export</);
    // The axis reaches below the most negative value, and 0 is one of its lines.
    const ticks = [...chart.matchAll(/text-anchor="end" font-size="11">(-?[0-9,]+)</g)].map((m) => Number(m[1]!.replace(/,/g, '')));
    assert.ok(Math.min(...ticks) <= -1520 && ticks.includes(0) && Math.max(...ticks) >= 700, JSON.stringify(ticks));
    // A consumer's chart stays as it was: no line below zero.
    const consumer = html.slice(html.indexOf('id="chart-private-1"'), html.indexOf('</svg>', html.indexOf('id="chart-private-1"')));
    assert.ok(!consumer.includes('below-zero'));
    assert.match(html, /data-audit="net"/);
  });

  it('finds a solar chart with nothing below zero and a flagged hour in the solar audit row', async () => {
    const model = sampleModel();
    model.prosumers[0]!.actualWh = model.prosumers[0]!.actualWh.map((v) => Math.abs(v ?? 0));
    model.prosumers[0]!.requestWh = model.prosumers[0]!.requestWh.map((v) => Math.abs(v));
    model.netAudit!.periods[3]!.status = 'mismatch';
    const other = path.join(dir, 'report-2.html');
    writeFileSync(other, renderReport(model));
    const problems = await verifyReportInBrowser(other, {
      finalBalances: {}, flaggedHours: [8], chartIds: [], belowZeroCharts: ['chart-private-0'], netAuditMatches: 24,
    });
    assert.equal(problems.length, 4, JSON.stringify(problems));
    assert.ok(problems.some((p) => /solar household's audit row flags/.test(p)));
    assert.ok(problems.some((p) => /shows 23 matching hours, expected 24/.test(p)));
    assert.ok(problems.some((p) => /chart-private-0 draws no value below zero/.test(p)));
    assert.ok(problems.some((p) => /chart-private-0 does not label what is below zero/.test(p)));
  });

  it('reports numbers that differ from the ledger and a wrong audit result', async () => {
    const problems = await verifyReportInBrowser(file, {
      finalBalances: { Ada: 2301, Bo: 0 }, flaggedHours: [9], chartIds: charts,
    });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /Ada: report shows 2,300, ledger has 2301/);
    assert.match(problems[1]!, /audit flags hours \[8\], expected \[9\]/);
  });
});
