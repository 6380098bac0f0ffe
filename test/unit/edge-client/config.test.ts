import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomSalt, requestCommitment, requestCommitmentFor } from '@flexproof/circuits';
import { EdgeError, isEdgeError, loadConfig, parseConfig } from '@flexproof/edge-client';
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

  it('meterFormat selects the adapter (default flexproof) and fills its settings', () => {
    assert.equal(parseConfig(valid, { baseDir: '/', env: {} }).meterFormat, 'flexproof');
    const { mqtt: _mqtt, ...withoutMqtt } = valid;
    const tcp = parseConfig({ ...withoutMqtt, meterFormat: 'dsmr-p1', p1: { host: 'p1-dongle.local', port: 8088 } }, { baseDir: '/', env: {} });
    assert.deepEqual(tcp.p1, { host: 'p1-dongle.local', port: 8088, baudRate: 115_200 });
    assert.equal(tcp.mqtt.url, '', 'the meter is read from p1, not MQTT');
    const serial = parseConfig({ ...withoutMqtt, meterFormat: 'dsmr-p1', p1: { serialPath: '/dev/ttyUSB0' } }, { baseDir: '/', env: {} });
    assert.deepEqual(serial.p1, { serialPath: '/dev/ttyUSB0', baudRate: 115_200 });
    const overMqtt = parseConfig({ ...valid, meterFormat: 'dsmr-p1' }, { baseDir: '/', env: {} });
    assert.equal(overMqtt.p1, undefined, 'no p1: one telegram per MQTT message');
    const tasmota = parseConfig({ ...valid, meterFormat: 'tasmota-sml', tasmota: { meterName: 'SML', timeZone: 'Europe/Berlin' } }, { baseDir: '/', env: {} });
    assert.deepEqual(tasmota.tasmota, { meterName: 'SML', importField: 'Total_in', exportField: 'Total_out', unit: 'kWh', timeZone: 'Europe/Berlin' });
    const shelly = parseConfig({ ...valid, meterFormat: 'shelly' }, { baseDir: '/', env: {} });
    assert.deepEqual(shelly.shelly, { component: 'emdata:0' });
    const env = parseConfig({ ...valid, shelly: { component: 'em1data:1' } }, { baseDir: '/', env: { FLEXPROOF_EDGE_METER_FORMAT: 'shelly' } });
    assert.deepEqual([env.meterFormat, env.shelly], ['shelly', { component: 'em1data:1' }]);
  });

  it('names every bad meterFormat setting, and unknown keys of the adapters by name', () => {
    const problems = (raw: Record<string, unknown>): string[] => {
      try {
        parseConfig(raw, { baseDir: '/', env: {} });
      } catch (error) {
        assert.ok(isEdgeError(error, 'CONFIG_INVALID'));
        return (error as EdgeError).details?.problems as string[];
      }
      return [];
    };
    assert.deepEqual(problems({ ...valid, meterFormat: 'dsmr' }), ['meterFormat: one of flexproof, dsmr-p1, tasmota-sml, shelly']);
    assert.deepEqual(problems({ ...valid, meterFormat: 'shelly', tasmota: { meterName: 'SML' } }), ['tasmota: settings of meterFormat tasmota-sml, but meterFormat is shelly']);
    assert.deepEqual(problems({ ...valid, meterFormat: 'dsmr-p1', p1: { host: 'dongle', port: 23, baudrate: 9600 } }), [
      'p1.baudrate: unknown field (did you mean baudRate?)',
      'mqtt.url, p1: the P1 telegrams come from p1 (serial or TCP) or over MQTT, not both',
    ]);
    assert.deepEqual(problems({ ...valid, mqtt: undefined, meterFormat: 'dsmr-p1', p1: { serialPath: '/dev/ttyUSB0', host: 'dongle', port: 99999 } }), [
      'p1: give serialPath (a serial device) or host and port (a P1-to-network dongle)',
      'p1.port: an integer from 1 to 65535',
    ]);
    assert.deepEqual(problems({ ...valid, mqtt: undefined, meterFormat: 'dsmr-p1', p1: { host: 'dongle', port: 23, baudRate: 9600 } }), ['p1.baudRate: only with serialPath']);
    assert.deepEqual(problems({ ...valid, meterFormat: 'tasmota-sml' }), ['tasmota: required with meterFormat tasmota-sml ({ "meterName": "<the meter name of the SML script>" } at least)']);
    assert.deepEqual(problems({ ...valid, meterFormat: 'tasmota-sml', tasmota: { meterName: 'SML', unit: 'MWh', timeZone: 'Mars/Olympus', importfield: 'x', exportField: 'a.b' } }), [
      'tasmota.importfield: unknown field (did you mean importField?)',
      'tasmota.unit: kWh or Wh',
      'tasmota.timeZone: an IANA time zone (e.g. Europe/Berlin), the one the device is set to',
      'tasmota.exportField: a JSON field name (1 to 64 characters, no spaces or dots)',
    ]);
    assert.deepEqual(problems({ ...valid, meterFormat: 'shelly', shelly: { component: 'em:0', topic: 'x' } }), [
      'shelly.topic: unknown field',
      'shelly.component: emdata:<id> (Pro 3EM, 3EM Gen3) or em1data:<id> (Pro EM, EM Gen3 channel)',
    ]);
  });

  it('a net-energy enrollment (v2) takes signed request profiles (negative: export) and its own commitment', () => {
    const profile = REQUEST_PROFILE.map((v, h) => (h >= 10 && h < 15 ? `-${v === '0' ? '1' : v}` : v));
    const net = { ...valid.enrollments[0], circuitId: 'flexnet-v2-r4', requestProfile: profile };
    const c = parseConfig({ ...valid, enrollments: [net] }, { baseDir: '/', env: {} });
    assert.equal(c.enrollments[0]?.shape, 'flexnet-v2-r4');
    assert.equal(c.enrollments[0]?.requestCommitment, requestCommitmentFor('flexnet-v2-r4', salt, profile).toString());
    assert.notEqual(c.enrollments[0]?.requestCommitment, requestCommitment(REQUEST_PROFILE, salt).toString());
    const problems = (enrollment: Record<string, unknown>): string => {
      try {
        parseConfig({ ...valid, enrollments: [enrollment] }, { baseDir: '/', env: {} });
      } catch (error) {
        assert.ok(isEdgeError(error, 'CONFIG_INVALID'));
        return (error as EdgeError).message;
      }
      return '';
    };
    assert.match(problems({ ...valid.enrollments[0], requestProfile: profile }), /requestProfile: 24 non-negative integers/, 'v1 stays consumption only');
    const tooLow = [...profile];
    tooLow[3] = String(-(2n ** 39n) - 1n);
    const text = problems({ ...net, requestProfile: tooLow });
    assert.match(text, /requestProfile\[3\] must be in/);
    assert.ok(!text.includes(tooLow[3]!) && !text.includes(profile[10]!), 'no profile value in the error');
    assert.match(problems({ ...net, requestProfile: profile.map((v, h) => (h === 0 ? '-0' : v)) }), /requestProfile: 24 integers \(Wh, negative for export\)/);
  });
});
