import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomSalt, requestCommitment } from '@flexproof/circuits';
import { loadConfig, parseConfig } from '../../../edge-client/src/config';
import { EdgeError, isEdgeError } from '../../../edge-client/src/errors';
import { REQUEST_PROFILE } from './support/site';

const salt = randomSalt().toString();
const valid = {
  meterId: 'meter-1',
  prosumerId: 'prosumer-1',
  keyFile: 'key.pem',
  dataDir: 'data',
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  gatewayUrl: 'http://127.0.0.1:8080/',
  siteSecret: 'ab'.repeat(16),
  enrollments: [
    { enrollmentId: 'e1', circuitId: 'flexdev-v1-r4', startTime: '2026-06-01T00:00:00Z', requestProfile: REQUEST_PROFILE, commitmentSalt: salt },
  ],
};

describe('edge-client: configuration', () => {
  it('fills defaults, resolves paths against the config folder, computes the commitment', () => {
    const c = parseConfig(valid, { baseDir: '/srv/site', env: {} });
    assert.equal(c.keyFile, '/srv/site/key.pem');
    assert.equal(c.dataDir, '/srv/site/data');
    assert.equal(c.mqtt.topic, 'flexproof/meters/meter-1/energy');
    assert.equal(c.mqtt.clientId, 'flexproof-edge-meter-1');
    assert.equal(c.gatewayUrl, 'http://127.0.0.1:8080');
    assert.equal(c.enrollments[0]?.periodSeconds, 3600);
    assert.equal(c.enrollments[0]?.graceSeconds, 900);
    assert.equal(c.enrollments[0]?.requestCommitment, requestCommitment(REQUEST_PROFILE, salt).toString());
    assert.equal(c.tamper, undefined, 'the tamper switch is off by default');
    const suffixed = parseConfig({ ...valid, enrollments: [{ ...valid.enrollments[0], circuitId: 'flexdev-v1-r60.ceremony2' }] }, { baseDir: '/', env: {} });
    assert.equal(suffixed.enrollments[0]?.shape, 'flexdev-v1-r60', 'a ledger circuit id with a suffix names its shape');
  });

  it('lets FLEXPROOF_EDGE_* variables override fields', () => {
    const c = parseConfig(valid, {
      baseDir: '/srv',
      env: {
        FLEXPROOF_EDGE_MQTT_URL: 'mqtts://broker:8883',
        FLEXPROOF_EDGE_MQTT_TOPIC: 'site/energy',
        FLEXPROOF_EDGE_RETRY_MAX_MS: '5000',
        FLEXPROOF_EDGE_TAMPER_PERIOD: 'e1:3',
        FLEXPROOF_EDGE_AUTO_ACCEPT: 'false',
        FLEXPROOF_EDGE_DATA_DIR: '/var/lib/flexproof',
      },
    });
    assert.equal(c.mqtt.url, 'mqtts://broker:8883');
    assert.equal(c.mqtt.topic, 'site/energy');
    assert.equal(c.retry.maxMs, 5000);
    assert.deepEqual(c.tamper, { enrollmentId: 'e1', periodIndex: 3 });
    assert.equal(c.autoAccept, false);
    assert.equal(c.dataDir, '/var/lib/flexproof');
  });

  it('lists every problem at once, without echoing secrets', () => {
    const bad = { ...valid, meterId: '', siteSecret: 'short-secret', mqtt: { url: 'http://x' }, enrollments: [{ ...valid.enrollments[0], requestProfile: [1, 2], circuitId: 'nope' }] };
    let caught: unknown;
    try {
      parseConfig(bad, { baseDir: '/', env: { FLEXPROOF_EDGE_RETRY_MAX_MS: 'soon' } });
    } catch (error) {
      caught = error;
    }
    assert.ok(isEdgeError(caught, 'CONFIG_INVALID'));
    const problems = (caught as EdgeError).details.problems as string[];
    for (const field of ['meterId', 'siteSecret', 'mqtt.url', 'enrollments[0].circuitId', 'enrollments[0].requestProfile', 'FLEXPROOF_EDGE_RETRY_MAX_MS']) {
      assert.ok(problems.some((p) => p.startsWith(field)), `a problem names ${field}: ${problems.join(' | ')}`);
    }
    assert.ok(!(caught as Error).message.includes('short-secret'));
  });

  it('defaults the ledger, the gateway organisation and the rated power; the environment overrides them', () => {
    const c = parseConfig(valid, { baseDir: '/', env: {} });
    assert.deepEqual(c.ledger, { channel: 'flexchannel', chaincode: 'flexproof' });
    assert.equal(c.gatewayMspId, 'AggregatorMSP');
    assert.equal(c.ratedPowerW, 50_000);
    assert.deepEqual(c.enrollments[0]?.acceptPolicy, {}, 'no policy unless written');
    const o = parseConfig({ ...valid, ledger: { channel: 'mychannel' } }, { baseDir: '/', env: { FLEXPROOF_EDGE_GATEWAY_MSP_ID: 'DsoMSP', FLEXPROOF_EDGE_RATED_POWER_W: '17000', FLEXPROOF_EDGE_LEDGER_CHAINCODE: 'cc2' } });
    assert.deepEqual(o.ledger, { channel: 'mychannel', chaincode: 'cc2' });
    assert.equal(o.gatewayMspId, 'DsoMSP');
    assert.equal(o.ratedPowerW, 17_000);
  });

  it('lays each enrollment acceptPolicy over the site-wide one, term by term; one maxFlexWh means every period', () => {
    const c = parseConfig(
      {
        ...valid,
        acceptPolicy: { minReward: '1000', maxRatePerWh: 2, minToleranceWh: '50', maxFlexWh: 500 },
        enrollments: [{ ...valid.enrollments[0], acceptPolicy: { orderId: 'order-7', minReward: '1500' } }],
      },
      { baseDir: '/', env: {} },
    );
    assert.deepEqual(c.enrollments[0]?.acceptPolicy, {
      minReward: '1500',
      maxRatePerWh: '2',
      minToleranceWh: '50',
      maxFlexWh: new Array<string>(24).fill('500'),
      orderId: 'order-7',
    });
  });

  it('names every bad acceptPolicy term, an unknown one, and bad ledger, MSP and TLS fields', () => {
    let caught: unknown;
    try {
      parseConfig(
        {
          ...valid,
          gatewayMspId: 'Aggregator MSP',
          ledger: { channel: 'Bad Channel' },
          ratedPowerW: 0,
          mqtt: { url: 'mqtts://b:8883', tls: { certFile: 'c.pem' }, password: 'x', passwordFile: 'p' },
          acceptPolicy: { minReward: -1, maxRatePerWh: '1.5', maxFlexWh: [1, 2], orderID: 'o' },
          enrollments: [{ ...valid.enrollments[0], acceptPolicy: { orderId: 'bad id!' } }],
        },
        { baseDir: '/', env: {} },
      );
    } catch (error) {
      caught = error;
    }
    assert.ok(isEdgeError(caught, 'CONFIG_INVALID'));
    const problems = (caught as EdgeError).details.problems as string[];
    for (const field of [
      'gatewayMspId',
      'ledger.channel',
      'ratedPowerW',
      'mqtt.tls.certFile, mqtt.tls.keyFile',
      'mqtt.password, mqtt.passwordFile',
      'acceptPolicy.minReward',
      'acceptPolicy.maxRatePerWh',
      'acceptPolicy.maxFlexWh',
      'acceptPolicy.orderID: unknown term',
      'enrollments[0].acceptPolicy.orderId',
    ]) {
      assert.ok(problems.some((p) => p.startsWith(field)), `a problem names ${field}: ${problems.join(' | ')}`);
    }
  });

  it('refuses a request profile and salt that do not open the given commitment', () => {
    const bad = { ...valid, enrollments: [{ ...valid.enrollments[0], requestCommitment: '12345' }] };
    assert.throws(() => parseConfig(bad, { baseDir: '/', env: {} }), (e) => isEdgeError(e, 'CONFIG_INVALID') && /do not open/.test((e as Error).message));
  });

  it('reads a file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-cfg-'));
    try {
      const file = path.join(dir, 'site.json');
      writeFileSync(file, JSON.stringify(valid));
      assert.equal(loadConfig(file, {}).keyFile, path.join(dir, 'key.pem'));
      writeFileSync(file, '{');
      assert.throws(() => loadConfig(file, {}), (e) => isEdgeError(e, 'CONFIG_INVALID'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
