export { connectToPeer, type FabricConnection, type FabricIdentityConfig } from './fabric/connect';
export {
  readNetworkDescriptor,
  identityOf,
  type NetworkDescriptor,
  type OrgDescriptor,
} from './fabric/network-descriptor';
