#!/usr/bin/env node
// The file npm links as node_modules/.bin/flexproof, kept outside dist/ for the same
// reason as auditor/bin/flexproof-audit.js: `npm ci` links bins before `tsc -b` has
// written dist/, and skips a bin whose file does not exist yet.
'use strict';
const path = require('node:path');
const { existsSync } = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write(`flexproof: ${entry} is not built yet: run \`npm run build\` (tsc -b) at the repository root\n`);
  process.exit(4);
}
const { runCli } = require(entry);
// Ctrl-C ends a followed event stream cleanly (exit 0) instead of killing it mid-line.
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stdin: process.stdin,
  cwd: process.cwd(),
  signal: stop.signal,
}).then(
  (code) => {
    process.exitCode = code;
    // An open event stream or keep-alive socket must not hold the process once the answer is out.
    setImmediate(() => process.exit(code));
  },
  (error) => {
    process.stderr.write(`flexproof: unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    process.exit(4);
  },
);
