// The lint rule that keeps each package's src/ and dist/ its own (eslint.config.mjs,
// flexproof/package-boundaries), run through the repository's real configuration on
// small snippets placed where the files would live.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RULE = 'flexproof/package-boundaries';

describe('lint: package boundaries', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: ROOT });

  async function reached(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    assert.ok(result, 'eslint returned no result');
    return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message.split("'")[1] ?? m.message);
  }

  it('refuses a test reaching into another package by relative path, in every import form', async () => {
    const code = [
      "import { parseConfig } from '../../../edge-client/src/config';",
      "import type { Logger } from '../../../edge-client/src/log';",
      "export { sealPeriod } from '../../../protocol/src';",
      "export * from '../../../auditor/dist/audit';",
      "const cli = import('../../../edge-client/src/cli');",
      "type Decoder = import('../../../edge-client/src/adapters').MeterDecoder;",
      "export { parseConfig, cli, type Logger, type Decoder };",
    ].join('\n');
    assert.deepEqual(await reached('test/unit/edge-client/boundary-probe.test.ts', code), [
      '../../../edge-client/src/config',
      '../../../edge-client/src/log',
      '../../../protocol/src',
      '../../../auditor/dist/audit',
      '../../../edge-client/src/cli',
      '../../../edge-client/src/adapters',
    ]);
  });

  it('refuses a package name with a src/ or dist/ path, and a package reaching into another', async () => {
    const byName = "import { FabricLedger } from '@flexproof/gateway-api/dist/ledger/fabric-ledger';\nexport { FabricLedger };\n";
    assert.deepEqual(await reached('test/unit/gateway-api/boundary-probe.test.ts', byName), ['@flexproof/gateway-api/dist/ledger/fabric-ledger']);
    const crossing = "import { putState } from '../../chaincode/src/ledger';\nexport { putState };\n";
    assert.deepEqual(await reached('edge-client/src/boundary-probe.ts', crossing), ['../../chaincode/src/ledger']);
  });

  it('lets entry points, declared subpaths, a package\'s own files and test helpers through', async () => {
    const code = [
      "import { parseConfig } from '@flexproof/edge-client';",
      "import manifest from '@flexproof/chaincode/package.json';",
      "import { Harness } from './support/node-harness';",
      "export { parseConfig, manifest, Harness };",
    ].join('\n');
    assert.deepEqual(await reached('test/unit/edge-client/boundary-probe.test.ts', code), []);
    const own = "import { EdgeError } from './errors';\nimport { parseConfig } from '../src/config';\nexport { EdgeError, parseConfig };\n";
    assert.deepEqual(await reached('edge-client/src/boundary-probe.ts', own), []);
  });

  it('a retired entry is refused where lint cannot see it: @flexproof/chaincode/client resolves neither for tsc nor for node', () => {
    const { options } = ts.convertCompilerOptionsFromJson(
      (ts.readConfigFile(path.join(ROOT, 'tsconfig.base.json'), ts.sys.readFile).config as { compilerOptions: unknown }).compilerOptions,
      ROOT,
    );
    const from = path.join(ROOT, 'test/unit/chaincode/boundary-probe.test.ts');
    const resolved = (spec: string) => ts.resolveModuleName(spec, from, options, ts.sys).resolvedModule?.resolvedFileName;
    assert.ok(resolved('@flexproof/chaincode'), 'the entry point resolves');
    assert.equal(resolved('@flexproof/chaincode/client'), undefined);
    assert.throws(() => require.resolve('@flexproof/chaincode/client'), (e: NodeJS.ErrnoException) => e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('keeps its exceptions narrow: the chaincode harness reaches the listed internals only', async () => {
    const code = [
      "export * as ledger from '../../../../chaincode/src/ledger';",
      "export * from '../../../../chaincode/src/contracts/market-contract';",
    ].join('\n');
    assert.deepEqual(await reached('test/unit/chaincode/support/chaincode.ts', code), ['../../../../chaincode/src/contracts/market-contract']);
    // The same line from any other chaincode test is refused.
    assert.deepEqual(await reached('test/unit/chaincode/boundary-probe.test.ts', "export * as ledger from '../../../chaincode/src/ledger';\n"), [
      '../../../chaincode/src/ledger',
    ]);
  });
});
