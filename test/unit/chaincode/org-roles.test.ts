import assert from 'node:assert/strict';
import { orgRolesFrom } from './support/chaincode';

describe('chaincode: organisation roles by MSP ID', () => {
  it('defaults to the native network names', () => {
    assert.deepEqual(orgRolesFrom(undefined), { aggregator: 'AggregatorMSP', dso: 'DsoMSP' });
  });

  it('maps the Fabric test-network organisations when configured', () => {
    assert.deepEqual(orgRolesFrom('Org1MSP=aggregator, Org2MSP=dso'), { aggregator: 'Org1MSP', dso: 'Org2MSP' });
  });

  for (const bad of ['Org1MSP=aggregator', 'Org1MSP=aggregator,Org2MSP=admin', 'A=dso,B=dso', '=aggregator,B=dso']) {
    it(`refuses "${bad}"`, () => {
      assert.throws(() => orgRolesFrom(bad), /FLEXPROOF_ORG_ROLES/);
    });
  }
});
