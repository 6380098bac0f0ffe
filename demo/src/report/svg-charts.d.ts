/**
 * Small, dependency-free SVG charts for the self-contained demo report. Every mark
 * carries data attributes (data-series, data-x, data-value) so the browser check can
 * read back what was drawn and compare it with the ledger.
 */
export declare const PALETTE: string[];
export interface Series {
    name: string;
    values: (number | null)[];
    color?: string;
    dashed?: boolean;
}
export declare function escapeHtml(text: string): string;
/** A line chart; null values break the line. */
export declare function lineChart(id: string, title: string, xLabels: string[], input: Series[], yLabel: string): string;
/** Grouped bars, one group per x label and one bar per series; null draws nothing. */
export declare function barChart(id: string, title: string, xLabels: string[], input: Series[], yLabel: string): string;
