"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.CHROMIUM_PATH = void 0;
exports.verifyReportInBrowser = verifyReportInBrowser;
/**
 * Opens the report in headless Chromium (Debian's chromium through playwright-core) and
 * checks what a person would see: the page loads without errors, every chart has drawn
 * marks, and the numbers shown equal the ledger's.
 */
const path = __importStar(require("node:path"));
const node_fs_1 = require("node:fs");
const playwright_core_1 = require("playwright-core");
exports.CHROMIUM_PATH = process.env.FLEXPROOF_CHROMIUM ?? '/usr/bin/chromium';
async function verifyReportInBrowser(reportPath, expected) {
    if (!(0, node_fs_1.existsSync)(exports.CHROMIUM_PATH))
        throw new Error(`Chromium not found at ${exports.CHROMIUM_PATH} (apt-get install chromium)`);
    const problems = [];
    // playwright gives the browser a fresh temporary profile and removes it on close.
    const browser = await playwright_core_1.chromium.launch({
        executablePath: exports.CHROMIUM_PATH,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync'],
    });
    try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
        page.on('console', (msg) => { if (msg.type() === 'error')
            problems.push(`console error: ${msg.text()}`); });
        const response = await page.goto(`file://${path.resolve(reportPath)}`);
        if (!response?.ok())
            problems.push(`report did not load (${response?.status()})`);
        for (const id of expected.chartIds) {
            const marks = await page.locator(`svg#${id} .mark`).count();
            const box = await page.locator(`svg#${id}`).boundingBox();
            if (!box || box.width < 100 || box.height < 100)
                problems.push(`chart ${id} is not rendered`);
            if (marks === 0)
                problems.push(`chart ${id} has no data marks`);
        }
        for (const [name, balance] of Object.entries(expected.finalBalances)) {
            const shown = await page.locator(`#settlement tr[data-prosumer="${name}"] td.final`).textContent();
            if (shown === null)
                problems.push(`settlement row of ${name} missing`);
            else if (Number(shown.replace(/,/g, '')) !== balance)
                problems.push(`${name}: report shows ${shown}, ledger has ${balance}`);
        }
        const flagged = await page.locator('#audit td[data-status="mismatch"]').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-hour'))));
        if (JSON.stringify(flagged) !== JSON.stringify(expected.mismatchedHours)) {
            problems.push(`audit flags hours ${JSON.stringify(flagged)}, expected ${JSON.stringify(expected.mismatchedHours)}`);
        }
        if (expected.screenshotPath)
            await page.screenshot({ path: expected.screenshotPath, fullPage: true });
    }
    finally {
        await browser.close();
    }
    return problems;
}
//# sourceMappingURL=verify-report.js.map