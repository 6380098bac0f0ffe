#!/usr/bin/env node
// The file npm links as node_modules/.bin/flexproof-edge. It is kept in the repository,
// outside dist/, because `npm ci` on a fresh checkout runs before `tsc -b`: npm does not
// link a bin whose file does not exist yet, and tsc would write dist/cli.js without the
// executable bit. npm makes this file executable when it links it.
'use strict';
const path = require('node:path');
const { existsSync } = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write(`flexproof-edge: ${entry} is not built yet: run \`npm run build\` (tsc -b) at the repository root\n`);
  process.exit(2);
}
require(entry).runCli(process.argv.slice(2));
