// Lint configuration for every workspace: typescript-eslint's recommended rules,
// plus the few house rules that catch real bugs in this code base.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

// The directories a package boundary encloses: the workspaces, and demo/ and bench/
// (tsconfig projects, no entry point yet).
const PROJECTS = new Set(['circuits', 'protocol', 'chaincode', 'gateway-api', 'edge-client', 'auditor', 'operator', 'demo', 'bench']);
const PRIVATE_DIRS = new Set(['src', 'dist']);

/**
 * A package's src/ and dist/ are its own; everyone else goes through its entry point
 * (package.json "exports"), so a package can move a file without breaking a caller it
 * never heard of. `no-restricted-imports` cannot tell `../src/x` inside a package from
 * `../../edge-client/src/x` from outside it, nor does it see `import()`, `require()` or
 * `import('x').T` types, hence this rule. Option `allow`: what the file may still reach,
 * each a repository path without extension (`demo/src/day`) or a specifier as written
 * (`@flexproof/gateway-api/dist/ledger/fabric-ledger`); see the exception blocks below.
 */
const packageBoundaries = {
  meta: {
    type: 'problem',
    schema: [{ type: 'object', properties: { allow: { type: 'array', items: { type: 'string' } } }, additionalProperties: false }],
    messages: {
      byName: "'{{spec}}' reaches into {{pkg}}'s {{dir}}/: import '@flexproof/{{pkg}}' (its entry point) or a subpath its package.json exports.",
      byPath: "'{{spec}}' reaches into {{pkg}}/{{dir}}/ from outside {{pkg}}: import '@flexproof/{{pkg}}' (export what you need from its src/index.ts).",
    },
  },
  create(context) {
    const allow = new Set((context.options[0]?.allow ?? []).map((p) => p.replace(/\.(ts|js)$/, '')));
    const file = context.filename ?? context.getFilename();
    const own = path.relative(ROOT, file).split(path.sep)[0];
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const named = /^@flexproof\/([^/]+)\/(src|dist)(\/|$)/.exec(spec);
      if (named) {
        if (allow.has(spec)) return;
        context.report({ node, messageId: 'byName', data: { spec, pkg: named[1], dir: named[2] } });
        return;
      }
      if (!spec.startsWith('.')) return;
      const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
      const [pkg, dir] = target.split(path.sep);
      if (!PROJECTS.has(pkg) || !PRIVATE_DIRS.has(dir) || pkg === own) return;
      if (allow.has(target.split(path.sep).join('/').replace(/\.(ts|js)$/, '').replace(/\/index$/, ''))) return;
      context.report({ node, messageId: 'byPath', data: { spec, pkg, dir } });
    };
    const literal = (n) => (n && n.type === 'Literal' ? n.value : undefined);
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n.source, n.source.value),
      ExportAllDeclaration: (n) => check(n.source, n.source.value),
      ImportExpression: (n) => check(n.source, literal(n.source)),
      TSExternalModuleReference: (n) => check(n.expression, literal(n.expression)),
      TSImportType: (n) => {
        const arg = n.argument?.type === 'TSLiteralType' ? n.argument.literal : n.argument;
        check(n, literal(arg));
      },
      CallExpression: (n) => {
        const callee = n.callee;
        const isRequire =
          (callee.type === 'Identifier' && callee.name === 'require') ||
          (callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && callee.object.name === 'require' && callee.property.name === 'resolve');
        if (isRequire) check(n.arguments[0], literal(n.arguments[0]));
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.flexproof/**', 'circuits/build/**', '**/*.js', '**/*.cjs'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { flexproof: { rules: { 'package-boundaries': packageBoundaries } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
      'flexproof/package-boundaries': 'error',
    },
  },
  // The exceptions, each narrow: which file may reach what, and why.
  {
    // The chaincode's unit suites run its TypeScript sources, not dist/, so they never
    // test a stale build, and they check its rule and ledger internals directly. This
    // harness is the one door; every chaincode unit test imports from it.
    files: ['test/unit/chaincode/support/chaincode.ts'],
    rules: {
      'flexproof/package-boundaries': ['error', { allow: ['chaincode/src', 'chaincode/src/rules', 'chaincode/src/ledger', 'chaincode/src/identity'] }],
    },
  },
  {
    // bench/ and demo/ are tsconfig projects without a package name or entry point yet,
    // so their unit tests can only reach the modules they test.
    // TODO(issue 15): import the entry points once demo and bench become workspaces.
    files: ['test/unit/bench/*.test.ts', 'test/unit/demo/*.test.ts'],
    rules: {
      'flexproof/package-boundaries': [
        'error',
        {
          allow: [
            'bench/dist/options',
            'bench/dist/report',
            'bench/dist/stats',
            'bench/dist/workload',
            'demo/src/soak-metrics',
            'demo/src/report/html-report',
            'demo/src/report/report-model',
            'demo/src/report/verify-report',
          ],
        },
      ],
    },
  },
  {
    // The demo and fault suites need DemoSummary and ProcessGroup from demo, which has no
    // entry point yet (demo is a tsconfig project, not a workspace): until it is one.
    files: ['test/faults/**/*.ts', 'test/integration/demo/**/*.ts'],
    rules: {
      'flexproof/package-boundaries': [
        'error',
        {
          allow: [
            'demo/src/day',
            'demo/src/processes',
          ],
        },
      ],
    },
  },
);
