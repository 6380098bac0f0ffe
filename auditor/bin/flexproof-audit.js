#!/usr/bin/env node
// The file npm links as node_modules/.bin/flexproof-audit, kept outside dist/ for the same
// reason as gateway-api/bin/flexproof-gateway.js: `npm ci` links bins before `tsc -b` has
// written dist/, and skips a bin whose file does not exist yet.
'use strict';
const path = require('node:path');
const { existsSync } = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write(`flexproof-audit: ${entry} is not built yet: run \`npm run build\` (tsc -b) at the repository root\n`);
  process.exit(2);
}
const { runAuditCli } = require(entry);
runAuditCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`flexproof-audit: unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exitCode = 2;
  },
);
