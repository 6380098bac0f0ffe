/** Renders the demo report as one self-contained HTML file (inline CSS and SVG, no scripts, no network). */
import { barChart, escapeHtml, lineChart, PALETTE } from './svg-charts';
import type { DemoReportModel, PeriodOutcome } from './report-model';

const HOURS = Array.from({ length: 24 }, (_, h) => `${String(h).padStart(2, '0')}h`);
const OUTCOME_STYLE: Record<PeriodOutcome, { label: string; color: string }> = {
  verified: { label: 'verified', color: '#c7e9c0' },
  invalidProof: { label: 'invalid proof', color: '#d62728' },
  missed: { label: 'missed', color: '#fdd0a2' },
  excluded: { label: 'excluded', color: '#bbbbbb' },
  pending: { label: 'pending', color: '#ffffff' },
};

const fmt = (n: number) => n.toLocaleString('en');

export function renderReport(m: DemoReportModel): string {
  const names = m.prosumers.map((p) => p.name);
  const balanceChart = lineChart(
    'chart-balances',
    'Tokens held for each prosumer over the day (escrow left after each hour; release to the account at close)',
    ['start', ...HOURS],
    m.prosumers.map((p) => ({ name: p.name, values: p.tokensOverDay })),
    'tokens',
  );
  const deviationChart = barChart(
    'chart-deviation',
    'Verified deviation per hour, from the ledger (Wh)',
    HOURS,
    m.prosumers.map((p) => ({ name: p.name, values: p.deviationWh })),
    'Wh',
  );
  const privateCharts = m.prosumers
    .map((p, i) =>
      p.netEnergy
        ? lineChart(
            `chart-private-${i}`,
            `${p.name} (solar, ${p.circuitId ?? 'net energy circuit'}): net energy (import − export) against the request per hour (Wh); below zero it exports`,
            HOURS,
            [
              { name: 'requested net', values: p.requestWh, color: '#555555', dashed: true },
              { name: 'measured net', values: p.actualWh, color: PALETTE[i % PALETTE.length] },
            ],
            'Wh (import + / export −)',
            { belowZeroLabel: 'export' },
          )
        : lineChart(
            `chart-private-${i}`,
            `${p.name}: request against actual consumption per hour (Wh)`,
            HOURS,
            [
              { name: 'requested', values: p.requestWh, color: '#555555', dashed: true },
              { name: 'actual', values: p.actualWh, color: PALETTE[i % PALETTE.length] },
            ],
            'Wh',
          ),
    )
    .join('');

  const outcomeRows = m.prosumers
    .map(
      (p) =>
        `<tr><th>${escapeHtml(p.name)}</th>${p.outcomes
          .map((o, h) => {
            const penaltyMark = o === 'verified' && (p.deviationWh[h] ?? 0) > 0 ? String(p.deviationWh[h]) : '';
            return `<td class="cell" data-outcome="${o}" title="${escapeHtml(`${p.name} ${HOURS[h]}: ${OUTCOME_STYLE[o].label}`)}" style="background:${OUTCOME_STYLE[o].color}">${o === 'invalidProof' ? '✗' : penaltyMark}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');

  const settlementRows = m.settlement
    .map(
      (r) =>
        `<tr data-prosumer="${escapeHtml(r.name)}" data-final-balance="${r.finalBalance}"><td>${escapeHtml(r.name)}</td><td>${escapeHtml(r.status)}</td>` +
        `<td>${fmt(r.reward)}</td><td>${fmt(r.penalties)}</td><td>${fmt(r.forfeited)}</td><td>${fmt(r.claimed)}</td><td>${fmt(r.released)}</td><td class="final">${fmt(r.finalBalance)}</td></tr>`,
    )
    .join('');

  const cellsOf = (periods: DemoReportModel['audit']['periods'], row: string) =>
    periods
      .map((p) => `<td class="audit ${p.status}" data-row="${row}" data-hour="${p.periodIndex}" data-status="${p.status}">${{ match: '✓', mismatch: '✗', unreadable: '⚠', missing: '?', notVerified: '·' }[p.status]}</td>`)
      .join('');
  const auditCells = cellsOf(m.audit.periods, 'altered');
  const netAudit = m.netAudit;
  const netAuditRow = netAudit ? `<tr data-audit="net"><th>${escapeHtml(netAudit.enrollmentId)} (solar, import and export)</th>${cellsOf(netAudit.periods, 'net')}</tr>` : '';

  const txRows = m.transactions
    .map((t) => `<tr><td>${escapeHtml(t.time)}</td><td>${escapeHtml(t.org)}</td><td>${escapeHtml(t.transaction)}</td><td>${escapeHtml(t.detail)}</td><td><code>${escapeHtml(t.txId)}</code></td></tr>`)
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(m.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{margin-bottom:4px} h2{margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4} td:first-child,th:first-child{text-align:left}
.cell{width:22px;text-align:center;font-size:11px} .audit{width:22px;text-align:center}
.audit.mismatch,.audit.unreadable{background:#d62728;color:#fff} .audit.match{background:#c7e9c0} .audit.missing{background:#eee} .audit.notVerified{background:#fff}
.private{border:2px dashed #888;padding:8px 16px;background:#fafafa}
.note{color:#555;font-size:13px} figure{margin:12px 0} figcaption{font-weight:600;margin-bottom:4px}
.tx{max-height:420px;overflow:auto;display:block}
</style></head><body>
<h1>${escapeHtml(m.title)}</h1>
<p class="note">Generated ${escapeHtml(m.generatedAt)} · ${m.parameters.prosumers} prosumers · ${m.parameters.secondsPerHour} s per simulated hour · circuit ${escapeHtml(m.parameters.circuitId)}</p>

<h2>Settlement</h2>
<table id="settlement"><thead><tr><th>prosumer</th><th>enrollment</th><th>reward</th><th>penalties</th><th>forfeited</th><th>claimed (missed)</th><th>released</th><th>final balance</th></tr></thead><tbody>${settlementRows}</tbody></table>
<p id="order" data-price="${m.order.price}" data-penalty="${m.order.penalty}">Order ${escapeHtml(m.order.orderId)}: price ${fmt(m.order.price)}, penalty for deficiency ${fmt(m.order.penalty)} → aggregator receives ${fmt(m.order.aggregatorReceived)}, DSO gets ${fmt(m.order.dsoRefund)} back.</p>
<p id="supply" data-outstanding="${m.supply.outstanding}" data-sum="${m.supply.sumOfAccounts}">Token supply: minted ${fmt(m.supply.minted)} − burned ${fmt(m.supply.burned)} = ${fmt(m.supply.outstanding)}; sum of all accounts and escrows ${fmt(m.supply.sumOfAccounts)} ${m.supply.outstanding === m.supply.sumOfAccounts ? '✓' : '✗ MISMATCH'}</p>

<h2>Over the day</h2>
${balanceChart}
${deviationChart}
<table id="outcomes"><thead><tr><th>hour</th>${HOURS.map((h) => `<th>${h.slice(0, 2)}</th>`).join('')}</tr></thead><tbody>${outcomeRows}</tbody></table>
<p class="note">${Object.values(OUTCOME_STYLE).slice(0, 4).map((s) => `<span style="background:${s.color};color:${s.color === '#d62728' ? '#fff' : '#222'};padding:0 6px">${s.label}</span>`).join(' ')} · a number is the deviation (Wh) of a verified hour.</p>

<h2>Audit of the off-chain raw data</h2>
<p>The store holds each hour's readings sealed to the prosumer and the auditor. An insider at the store replaced ${escapeHtml(m.audit.prosumer)}'s sealed document of hour ${m.audit.alteredHour} after it was submitted. The auditor opens each document with its own key, recomputes the hour's fingerprint and compares it with the ledger (✓ match, ✗ mismatch, ⚠ does not open as that hour's):</p>
<table id="audit"><thead><tr><th>hour</th>${m.audit.periods.map((p) => `<th>${p.periodIndex}</th>`).join('')}</tr></thead><tbody><tr><th>${escapeHtml(m.audit.enrollmentId)}</th>${auditCells}</tr>${netAuditRow}</tbody></table>
${netAudit ? `<p class="note">${escapeHtml(netAudit.prosumer)}'s hours (a household with solar, proven on the signed net energy circuit) are audited over both registers, and each hour's deviation is recomputed from the sealed import and export readings against its request.</p>` : ''}
<p class="note">The ledger's settlement of the altered hour stays valid: the proof was verified against the data as it was fingerprinted.</p>

<h2>The prosumers' private view</h2>
<div class="private"><p><strong>Private to each prosumer.</strong> Drawn from the edge client's own data (its request profile and its meter readings), never from the ledger: the ledger holds only commitments, fingerprints, deviations and proofs.</p>
${privateCharts}</div>

<h2>Ledger transactions (${m.transactions.length})</h2>
<table class="tx" id="transactions"><thead><tr><th>time</th><th>organisation</th><th>transaction</th><th>detail</th><th>transaction id</th></tr></thead><tbody>${txRows}</tbody></table>

<h2>Stages</h2>
<table id="stages"><tbody>${m.stages.map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${s.seconds.toFixed(1)} s</td></tr>`).join('')}</tbody></table>
<p class="note">Prosumers: ${names.map(escapeHtml).join(', ')}.</p>
</body></html>
`;
}
