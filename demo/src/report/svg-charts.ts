/**
 * Small, dependency-free SVG charts for the self-contained demo report. Every mark
 * carries data attributes (data-series, data-x, data-value) so the browser check can
 * read back what was drawn and compare it with the ledger.
 */

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];

export interface Series {
  name: string;
  values: (number | null)[];
  color?: string;
  dashed?: boolean;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const FRAME: Frame = { width: 720, height: 260, left: 56, right: 150, top: 16, bottom: 34 };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** The value range of a chart: [0, nice max] for non-negative data; with negative data, round steps on both sides of 0. */
interface Scale {
  min: number;
  max: number;
  ticks: number[];
}

function scaleFor(values: number[]): Scale {
  const low = Math.min(0, ...values);
  const high = Math.max(0, ...values);
  if (low >= 0) {
    const max = niceMax(high);
    return { min: 0, max, ticks: [0, 1, 2, 3, 4].map((i) => (max * i) / 4) };
  }
  const step = niceMax((high - low) / 4);
  const min = -Math.ceil(-low / step) * step;
  const max = Math.max(step, Math.ceil(high / step) * step);
  const ticks: number[] = [];
  for (let v = min; v <= max + step / 2; v += step) ticks.push(v);
  return { min, max, ticks };
}

function axes(f: Frame, xLabels: string[], scale: Scale, yLabel: string, belowZeroLabel?: string): string {
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const yAt = (v: number) => f.top + plotH - (plotH * (v - scale.min)) / (scale.max - scale.min);
  const parts: string[] = [];
  for (const v of scale.ticks) {
    const y = yAt(v);
    parts.push(`<line x1="${f.left}" x2="${f.left + plotW}" y1="${y}" y2="${y}" stroke="${v === 0 && scale.min < 0 ? '#777' : '#e5e5e5'}"/>`);
    parts.push(`<text x="${f.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${Math.round(v).toLocaleString('en')}</text>`);
  }
  if (scale.min < 0 && belowZeroLabel !== undefined) {
    // Which side of the zero line is which: the chart is read without the legend too.
    parts.push(`<text class="below-zero" x="${f.left + 6}" y="${yAt(scale.min) - 6}" font-size="11" fill="#555">▼ ${escapeHtml(belowZeroLabel)}</text>`);
  }
  const step = Math.max(1, Math.ceil(xLabels.length / 12));
  xLabels.forEach((label, i) => {
    if (i % step !== 0) return;
    const x = f.left + (plotW * (i + 0.5)) / xLabels.length;
    parts.push(`<text x="${x}" y="${f.top + plotH + 16}" text-anchor="middle" font-size="11">${escapeHtml(label)}</text>`);
  });
  parts.push(`<text x="14" y="${f.top + plotH / 2}" transform="rotate(-90 14 ${f.top + plotH / 2})" text-anchor="middle" font-size="11">${escapeHtml(yLabel)}</text>`);
  parts.push(`<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.top + plotH}" stroke="#999"/>`);
  parts.push(`<line x1="${f.left}" x2="${f.left + plotW}" y1="${f.top + plotH}" y2="${f.top + plotH}" stroke="#999"/>`);
  return parts.join('');
}

function legend(f: Frame, series: Series[]): string {
  return series
    .map((s, i) => {
      const y = f.top + 10 + i * 18;
      const x = f.width - f.right + 12;
      const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
      return `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="3"${dash}/>` +
        `<text x="${x + 24}" y="${y + 4}" font-size="11">${escapeHtml(s.name)}</text>`;
    })
    .join('');
}

function withColors(series: Series[]): Series[] {
  return series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
}

/**
 * A line chart; null values break the line. Negative values are drawn below a zero line
 * (`belowZeroLabel` names what they mean, e.g. export).
 */
export function lineChart(id: string, title: string, xLabels: string[], input: Series[], yLabel: string, options: { belowZeroLabel?: string } = {}): string {
  const series = withColors(input);
  const f = FRAME;
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const scale = scaleFor(series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const xAt = (i: number) => f.left + (plotW * (i + 0.5)) / xLabels.length;
  const yAt = (v: number) => f.top + plotH - (plotH * (v - scale.min)) / (scale.max - scale.min);
  const lines = series.map((s) => {
    const points: string[] = [];
    const marks: string[] = [];
    s.values.forEach((v, i) => {
      if (v === null) return;
      points.push(`${points.length === 0 || s.values[i - 1] === null ? 'M' : 'L'}${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`);
      marks.push(`<circle class="mark" cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="2.5" fill="${s.color}" data-series="${escapeHtml(s.name)}" data-x="${i}" data-value="${v}"><title>${escapeHtml(s.name)} ${escapeHtml(xLabels[i] ?? '')}: ${v}</title></circle>`);
    });
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    return `<path d="${points.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>${marks.join('')}`;
  });
  return figure(id, title, `${axes(f, xLabels, scale, yLabel, options.belowZeroLabel)}${lines.join('')}${legend(f, series)}`);
}

/** Grouped bars, one group per x label and one bar per series; null draws nothing. */
export function barChart(id: string, title: string, xLabels: string[], input: Series[], yLabel: string): string {
  const series = withColors(input);
  const f = FRAME;
  const plotW = f.width - f.left - f.right;
  const plotH = f.height - f.top - f.bottom;
  const scale = scaleFor(series.flatMap((s) => s.values.filter((v): v is number => v !== null).map((v) => Math.max(0, v))));
  const yMax = scale.max;
  const groupW = plotW / xLabels.length;
  const barW = Math.max(1, (groupW * 0.8) / series.length);
  const bars = series.flatMap((s, si) =>
    s.values.map((v, i) => {
      if (v === null) return '';
      const h = (plotH * v) / yMax;
      const x = f.left + groupW * i + groupW * 0.1 + barW * si;
      return `<rect class="mark" x="${x.toFixed(1)}" y="${(f.top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}" data-series="${escapeHtml(s.name)}" data-x="${i}" data-value="${v}"><title>${escapeHtml(s.name)} ${escapeHtml(xLabels[i] ?? '')}: ${v}</title></rect>`;
    }),
  );
  return figure(id, title, `${axes(f, xLabels, scale, yLabel)}${bars.join('')}${legend(f, series)}`);
}

function figure(id: string, title: string, body: string): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg class="chart" id="${escapeHtml(id)}" viewBox="0 0 ${FRAME.width} ${FRAME.height}" width="${FRAME.width}" height="${FRAME.height}" role="img" aria-label="${escapeHtml(title)}" font-family="sans-serif">${body}</svg></figure>`;
}
