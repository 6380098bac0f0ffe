import type { DemoReportModel } from './report-model';
export declare function renderReport(m: DemoReportModel): string;
