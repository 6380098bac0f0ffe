// The gateway's bin as npm links it, and hash-token's labelled output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { hashToken } from '@flexproof/gateway-api';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PACKAGE = path.join(ROOT, 'gateway-api');

function bin(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'flexproof-gateway'), args, { encoding: 'utf8', timeout: 60_000, input: '' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gateway-api: the flexproof-gateway bin', () => {
  it('is a file of the repository (not of dist/, which npm ci does not have yet), with a shebang and executable', () => {
    const manifest = JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const target = manifest.bin['flexproof-gateway'];
    assert.ok(target !== undefined, 'package.json bin names flexproof-gateway');
    assert.doesNotMatch(target, /^(\.\/)?dist\//);
    const file = path.join(PACKAGE, target);
    assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    assert.notEqual(statSync(file).mode & 0o111, 0, `${file} is executable`);
    assert.equal(realpathSync(path.join(ROOT, 'node_modules', '.bin', 'flexproof-gateway')), realpathSync(file), 'npm linked node_modules/.bin/flexproof-gateway to it');
  });

  it('answers --help with 0, and its example configures the sha256 of the token', () => {
    const { status, stdout } = bin('--help');
    assert.equal(status, 0);
    assert.match(stdout, /usage: flexproof-gateway/);
    assert.match(stdout, /"sha256\\?":\\?"\$SHA256\\?"/);
    assert.match(stdout, /hash-token - \| sed -n "s\/\^sha256: \/\/p"/);
    // The coalescing settings, with their defaults.
    assert.match(stdout, /FLEXPROOF_BATCH_MAX_ITEMS +N: most periods .*\[default: 32\]/);
    assert.match(stdout, /FLEXPROOF_BATCH_WINDOW_MS +.*\[default: 20\]/);
    assert.match(stdout, /FLEXPROOF_BATCH_MAX_IN_FLIGHT +.*\[default: 1\]/);
  });

  it('hash-token prints labelled lines, or JSON with --json; a given token (argument or stdin) is hashed', () => {
    const fresh = bin('hash-token');
    assert.equal(fresh.status, 0, fresh.stderr);
    const match = /^token: ([A-Za-z0-9_-]{43})\nsha256: ([0-9a-f]{64})\n$/.exec(fresh.stdout);
    assert.ok(match, fresh.stdout);
    assert.equal(match[2], hashToken(match[1] as string));
    const json = bin('hash-token', 'my-token', '--json');
    assert.equal(json.status, 0);
    assert.deepEqual(JSON.parse(json.stdout), { token: 'my-token', sha256: hashToken('my-token') });
    const r = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'flexproof-gateway'), ['hash-token', '-'], { encoding: 'utf8', input: 'piped-token\n' });
    assert.equal(r.stdout, `token: piped-token\nsha256: ${hashToken('piped-token')}\n`);
    assert.equal(bin('hash-token', 'a', 'b').status, 2);
    assert.equal(bin('hash-token', '--jsn').status, 2);
  });
});
