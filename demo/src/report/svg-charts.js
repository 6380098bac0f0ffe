"use strict";
/**
 * Small, dependency-free SVG charts for the self-contained demo report. Every mark
 * carries data attributes (data-series, data-x, data-value) so the browser check can
 * read back what was drawn and compare it with the ledger.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.PALETTE = void 0;
exports.escapeHtml = escapeHtml;
exports.lineChart = lineChart;
exports.barChart = barChart;
exports.PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const FRAME = { width: 720, height: 260, left: 56, right: 150, top: 16, bottom: 34 };
function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
function niceMax(value) {
    if (value <= 0)
        return 1;
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10])
        if (step * magnitude >= value)
            return step * magnitude;
    return 10 * magnitude;
}
function axes(f, xLabels, yMax, yLabel) {
    const plotW = f.width - f.left - f.right;
    const plotH = f.height - f.top - f.bottom;
    const parts = [];
    for (let i = 0; i <= 4; i++) {
        const v = (yMax * i) / 4;
        const y = f.top + plotH - (plotH * i) / 4;
        parts.push(`<line x1="${f.left}" x2="${f.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
        parts.push(`<text x="${f.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${Math.round(v).toLocaleString('en')}</text>`);
    }
    const step = Math.max(1, Math.ceil(xLabels.length / 12));
    xLabels.forEach((label, i) => {
        if (i % step !== 0)
            return;
        const x = f.left + (plotW * (i + 0.5)) / xLabels.length;
        parts.push(`<text x="${x}" y="${f.top + plotH + 16}" text-anchor="middle" font-size="11">${escapeHtml(label)}</text>`);
    });
    parts.push(`<text x="14" y="${f.top + plotH / 2}" transform="rotate(-90 14 ${f.top + plotH / 2})" text-anchor="middle" font-size="11">${escapeHtml(yLabel)}</text>`);
    parts.push(`<line x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.top + plotH}" stroke="#999"/>`);
    parts.push(`<line x1="${f.left}" x2="${f.left + plotW}" y1="${f.top + plotH}" y2="${f.top + plotH}" stroke="#999"/>`);
    return parts.join('');
}
function legend(f, series) {
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
function withColors(series) {
    return series.map((s, i) => ({ ...s, color: s.color ?? exports.PALETTE[i % exports.PALETTE.length] }));
}
/** A line chart; null values break the line. */
function lineChart(id, title, xLabels, input, yLabel) {
    const series = withColors(input);
    const f = FRAME;
    const plotW = f.width - f.left - f.right;
    const plotH = f.height - f.top - f.bottom;
    const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))));
    const xAt = (i) => f.left + (plotW * (i + 0.5)) / xLabels.length;
    const yAt = (v) => f.top + plotH - (plotH * v) / yMax;
    const lines = series.map((s) => {
        const points = [];
        const marks = [];
        s.values.forEach((v, i) => {
            if (v === null)
                return;
            points.push(`${points.length === 0 || s.values[i - 1] === null ? 'M' : 'L'}${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`);
            marks.push(`<circle class="mark" cx="${xAt(i).toFixed(1)}" cy="${yAt(v).toFixed(1)}" r="2.5" fill="${s.color}" data-series="${escapeHtml(s.name)}" data-x="${i}" data-value="${v}"><title>${escapeHtml(s.name)} ${escapeHtml(xLabels[i] ?? '')}: ${v}</title></circle>`);
        });
        const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
        return `<path d="${points.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>${marks.join('')}`;
    });
    return figure(id, title, `${axes(f, xLabels, yMax, yLabel)}${lines.join('')}${legend(f, series)}`);
}
/** Grouped bars, one group per x label and one bar per series; null draws nothing. */
function barChart(id, title, xLabels, input, yLabel) {
    const series = withColors(input);
    const f = FRAME;
    const plotW = f.width - f.left - f.right;
    const plotH = f.height - f.top - f.bottom;
    const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null))));
    const groupW = plotW / xLabels.length;
    const barW = Math.max(1, (groupW * 0.8) / series.length);
    const bars = series.flatMap((s, si) => s.values.map((v, i) => {
        if (v === null)
            return '';
        const h = (plotH * v) / yMax;
        const x = f.left + groupW * i + groupW * 0.1 + barW * si;
        return `<rect class="mark" x="${x.toFixed(1)}" y="${(f.top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}" data-series="${escapeHtml(s.name)}" data-x="${i}" data-value="${v}"><title>${escapeHtml(s.name)} ${escapeHtml(xLabels[i] ?? '')}: ${v}</title></rect>`;
    }));
    return figure(id, title, `${axes(f, xLabels, yMax, yLabel)}${bars.join('')}${legend(f, series)}`);
}
function figure(id, title, body) {
    return `<figure><figcaption>${escapeHtml(title)}</figcaption>` +
        `<svg class="chart" id="${escapeHtml(id)}" viewBox="0 0 ${FRAME.width} ${FRAME.height}" width="${FRAME.width}" height="${FRAME.height}" role="img" aria-label="${escapeHtml(title)}" font-family="sans-serif">${body}</svg></figure>`;
}
//# sourceMappingURL=svg-charts.js.map