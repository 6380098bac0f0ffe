import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConfigError, hashToken, loadConfig } from '@flexproof/gateway-api';

describe('gateway configuration', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-config-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(dir, f), 'pem');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    env = {
      FLEXPROOF_GATEWAY_ORG: 'dso',
      FLEXPROOF_GATEWAY_TOKENS: JSON.stringify([{ name: 'ops', role: 'dso', sha256: hashToken('t') }]),
      FLEXPROOF_NETWORK_JSON: path.join(dir, 'absent.json'),
      FLEXPROOF_MSP_ID: 'DsoMSP',
      FLEXPROOF_PEER_ENDPOINT: '127.0.0.1:9051',
      FLEXPROOF_PEER_TLS_ROOT_CERT: path.join(dir, 'ca.pem'),
      FLEXPROOF_CLIENT_CERT: path.join(dir, 'cert.pem'),
      FLEXPROOF_CLIENT_KEY: path.join(dir, 'key.pem'),
      FLEXPROOF_CHANNEL: 'flexchannel',
      FLEXPROOF_CHAINCODE: 'flexproof',
    };
  });

  it('applies the per-organisation defaults', () => {
    const config = loadConfig(env);
    assert.equal(config.port, 9080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.store.kind === 'embedded' && config.store.port, 9984);
    assert.equal(config.edgeWindowSeconds, 300);
    assert.equal(loadConfig({ ...env, COUCHDB_URL: 'http://admin:pw@db:5984' }).store.kind, 'couchdb');
  });

  it('lists every problem at once', () => {
    const bad = {
      FLEXPROOF_GATEWAY_ORG: 'bank',
      FLEXPROOF_GATEWAY_TOKENS: JSON.stringify([{ name: 'x', role: 'root', sha256: 'short' }]),
      FLEXPROOF_NETWORK_JSON: path.join(dir, 'absent.json'),
      FLEXPROOF_GATEWAY_PORT: '70000',
      COUCHDB_URL: 'ftp://x',
      FLEXPROOF_PEER_TLS_ROOT_CERT: path.join(dir, 'missing.pem'),
    };
    assert.throws(
      () => loadConfig(bad),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const names = err.problems.map((p) => p.split(':')[0]);
        for (const n of [
          'FLEXPROOF_GATEWAY_ORG',
          'FLEXPROOF_GATEWAY_TOKENS[0].role',
          'FLEXPROOF_GATEWAY_TOKENS[0].sha256',
          'FLEXPROOF_GATEWAY_PORT',
          'COUCHDB_URL',
          'FLEXPROOF_MSP_ID',
          'FLEXPROOF_PEER_ENDPOINT',
          'FLEXPROOF_CLIENT_CERT',
          'FLEXPROOF_CHANNEL',
        ]) {
          assert.ok(names.includes(n), `${n} in ${JSON.stringify(err.problems)}`);
        }
        assert.ok(err.problems.some((p) => p.includes('missing.pem')));
        return true;
      },
    );
  });

  it('refuses a token of a role this organisation does not serve, and never echoes secrets', () => {
    assert.throws(
      () => loadConfig({ ...env, FLEXPROOF_GATEWAY_TOKENS: JSON.stringify([{ name: 'a', role: 'aggregator', sha256: hashToken('x') }]) }),
      /the dso gateway serves only the roles dso and auditor/,
    );
    assert.throws(
      () => loadConfig({ ...env, COUCHDB_URL: 'notaurl://user:hunter2@x' }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('hunter2'),
    );
  });

  it('takes a CouchDB store by URL with credentials (from the URL, or a user and a password file), never echoing a password', () => {
    const fromUrl = loadConfig({ ...env, COUCHDB_URL: 'https://gw%40dso:p%3Ass@db.example:6984/' }).store;
    assert.deepEqual(fromUrl, { kind: 'couchdb', url: 'https://db.example:6984', credentials: { username: 'gw@dso', password: 'p:ss' } });

    const passwordFile = path.join(dir, 'couch-password');
    writeFileSync(passwordFile, 'correct horse battery\n', { mode: 0o600 });
    const fromFile = loadConfig({ ...env, COUCHDB_URL: 'http://db:5984', COUCHDB_USER: 'gateway', COUCHDB_PASSWORD_FILE: passwordFile }).store;
    assert.deepEqual(fromFile, { kind: 'couchdb', url: 'http://db:5984', credentials: { username: 'gateway', password: 'correct horse battery' } });

    const refused: [NodeJS.ProcessEnv, RegExp][] = [
      [{ COUCHDB_URL: 'http://db:5984' }, /COUCHDB_USER: required with COUCHDB_URL \(the store must refuse anonymous access\)/],
      [{ COUCHDB_URL: 'http://db:5984', COUCHDB_USER: 'gateway' }, /COUCHDB_PASSWORD_FILE: required with COUCHDB_USER/],
      [{ COUCHDB_URL: 'http://db:5984', COUCHDB_USER: 'gateway', COUCHDB_PASSWORD: 'hunter2', COUCHDB_PASSWORD_FILE: passwordFile }, /not both/],
      [{ COUCHDB_URL: 'http://u:hunter2@db:5984', COUCHDB_USER: 'gateway' }, /give them once/],
      [{ COUCHDB_URL: 'http://db:5984', COUCHDB_USER: 'gateway', COUCHDB_PASSWORD_FILE: path.join(dir, 'absent') }, /COUCHDB_PASSWORD_FILE: cannot read/],
      [{ COUCHDB_URL: 'http://u:hunter2@db:5984/?x=1' }, /COUCHDB_URL: must be an http\(s\) URL without query/],
      [{ COUCHDB_USER: 'gateway', COUCHDB_PASSWORD: 'hunter2' }, /COUCHDB_USER: only with COUCHDB_URL/],
    ];
    for (const [extra, problem] of refused) {
      assert.throws(
        () => loadConfig({ ...env, ...extra }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, problem);
          assert.ok(!err.message.includes('hunter2') && !err.message.includes('correct horse'), 'no password in the message');
          return true;
        },
        JSON.stringify(Object.keys(extra)),
      );
    }
  });

  it('reads settings from a JSON file, the environment winning', () => {
    const file = path.join(dir, 'gateway.json');
    writeFileSync(file, JSON.stringify({ FLEXPROOF_GATEWAY_PORT: 9999, FLEXPROOF_EDGE_WINDOW_SECONDS: 60 }));
    const config = loadConfig({ ...env, FLEXPROOF_GATEWAY_CONFIG: file, FLEXPROOF_EDGE_WINDOW_SECONDS: '120' });
    assert.equal(config.port, 9999);
    assert.equal(config.edgeWindowSeconds, 120);
  });

  it('keeps the edge nonce log beside the store directory unless told otherwise, with bounded sizes', () => {
    const config = loadConfig({ ...env, FLEXPROOF_STORE_DIR: path.join(dir, 'gw', 'store') });
    assert.deepEqual(config.edgeNonces, { dir: path.join(dir, 'gw', 'edge-nonces'), maxEntries: 200_000, maxPerMeter: 2_000 });
    // Also with CouchDB (no embedded store), the default stays in the gateway's data directory.
    assert.match(loadConfig({ ...env, COUCHDB_URL: 'http://db:5984', COUCHDB_USER: 'gw', COUCHDB_PASSWORD: 'pw' }).edgeNonces.dir, /[\\/]\.flexproof[\\/]gateway[\\/]dso[\\/]edge-nonces$/);
    const custom = loadConfig({ ...env, FLEXPROOF_EDGE_NONCE_DIR: path.join(dir, 'n'), FLEXPROOF_EDGE_NONCE_LIMIT: '5000', FLEXPROOF_EDGE_NONCES_PER_METER: '50' });
    assert.deepEqual(custom.edgeNonces, { dir: path.join(dir, 'n'), maxEntries: 5000, maxPerMeter: 50 });
    assert.throws(() => loadConfig({ ...env, FLEXPROOF_EDGE_NONCE_LIMIT: '0' }), /FLEXPROOF_EDGE_NONCE_LIMIT: must be an integer from 1000/);
  });

  it('reads the period coalescing settings from the environment or the file (defaults 32, 20 ms, 1), refusing out-of-range values', () => {
    assert.deepEqual(loadConfig(env).periodBatching, { maxItems: 32, windowMs: 20, maxInFlight: 1 });
    const file = path.join(dir, 'batching.json');
    writeFileSync(file, JSON.stringify({ FLEXPROOF_BATCH_MAX_ITEMS: 16, FLEXPROOF_BATCH_WINDOW_MS: 50, FLEXPROOF_BATCH_MAX_IN_FLIGHT: 2 }));
    assert.deepEqual(loadConfig({ ...env, FLEXPROOF_GATEWAY_CONFIG: file }).periodBatching, { maxItems: 16, windowMs: 50, maxInFlight: 2 });
    assert.deepEqual(loadConfig({ ...env, FLEXPROOF_GATEWAY_CONFIG: file, FLEXPROOF_BATCH_MAX_ITEMS: '1' }).periodBatching, { maxItems: 1, windowMs: 50, maxInFlight: 2 });
    assert.throws(
      () => loadConfig({ ...env, FLEXPROOF_BATCH_MAX_ITEMS: '0', FLEXPROOF_BATCH_WINDOW_MS: '2.5', FLEXPROOF_BATCH_MAX_IN_FLIGHT: 'many' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, [
          'FLEXPROOF_BATCH_MAX_ITEMS: must be an integer from 1 to 256',
          'FLEXPROOF_BATCH_WINDOW_MS: must be an integer from 0 to 10000',
          'FLEXPROOF_BATCH_MAX_IN_FLIGHT: must be an integer from 1 to 1024',
        ]);
        return true;
      },
    );
  });

  it('refuses an MSP id that cannot stand in the edge signing string', () => {
    assert.equal(loadConfig(env).fabric.mspId, 'DsoMSP');
    assert.throws(() => loadConfig({ ...env, FLEXPROOF_MSP_ID: 'Dso MSP' }), /FLEXPROOF_MSP_ID: 1 to 128 printable ASCII/);
  });
});
