import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT_DIR } from '../../support/paths';

const BIN = path.join(ROOT_DIR, 'network', 'builders', 'ccaas', 'bin');

function run(step: 'detect' | 'build' | 'release', ...args: string[]): number {
  return spawnSync(path.join(BIN, step), args, { stdio: 'ignore' }).status ?? -1;
}

describe('chaincode-as-a-service external builder', () => {
  let dir: string;
  const sub = (name: string) => {
    const p = path.join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };

  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'flexproof-builder-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('detect claims packages of type ccaas and no other', () => {
    const meta = sub('meta');
    writeFileSync(path.join(meta, 'metadata.json'), '{"type":"ccaas","label":"flexproof_1"}');
    assert.equal(run('detect', sub('src'), meta), 0);
    writeFileSync(path.join(meta, 'metadata.json'), '{"type":"node","label":"flexproof_1"}');
    assert.notEqual(run('detect', sub('src'), meta), 0);
  });

  it('build refuses a package without connection.json or without an address', () => {
    const src = sub('src');
    assert.notEqual(run('build', src, sub('meta'), sub('out')), 0);
    writeFileSync(path.join(src, 'connection.json'), '{"tls_required":true}');
    assert.notEqual(run('build', src, sub('meta'), sub('out')), 0);
  });

  it('build then release hands the connection to the peer at chaincode/server/connection.json', () => {
    const src = sub('src');
    const connection = '{"address":"127.0.0.1:7100","tls_required":true}';
    writeFileSync(path.join(src, 'connection.json'), connection);
    const out = sub('out');
    assert.equal(run('build', src, sub('meta'), out), 0);
    const release = sub('release');
    assert.equal(run('release', out, release), 0);
    const released = path.join(release, 'chaincode', 'server', 'connection.json');
    assert.ok(existsSync(released));
    assert.equal(readFileSync(released, 'utf8'), connection);
  });
});
