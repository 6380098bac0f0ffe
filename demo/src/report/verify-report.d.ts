export interface ReportExpectations {
    /** prosumer name -> final token balance on the ledger */
    finalBalances: Record<string, number>;
    /** hours the audit must flag as mismatch (all others match) */
    mismatchedHours: number[];
    chartIds: string[];
    screenshotPath?: string;
}
export declare const CHROMIUM_PATH: string;
export declare function verifyReportInBrowser(reportPath: string, expected: ReportExpectations): Promise<string[]>;
