// Loads TypeScript test files through ts-node. Type checking is done once by
// `tsc -b` (npm run build) rather than per file, which keeps mocha start-up fast;
// the compiler still emits decorator metadata, which fabric-contract-api needs.
const path = require('node:path');
process.env.TS_NODE_PROJECT = path.join(__dirname, 'tsconfig.json');
process.env.TS_NODE_TRANSPILE_ONLY = 'true';
require('ts-node/register');
