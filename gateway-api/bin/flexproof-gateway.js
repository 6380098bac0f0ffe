#!/usr/bin/env node
// The file npm links as node_modules/.bin/flexproof-gateway. It is kept in the repository,
// outside dist/, because `npm ci` on a fresh checkout runs before `tsc -b`: npm does not
// link a bin whose file does not exist yet, and tsc would write dist/server.js without
// the executable bit. npm makes this file executable when it links it.
'use strict';
const path = require('node:path');
const { existsSync } = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'server.js');
if (!existsSync(entry)) {
  process.stderr.write(`flexproof-gateway: ${entry} is not built yet: run \`npm run build\` (tsc -b) at the repository root\n`);
  process.exit(2);
}
require(entry);
