import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { relayed } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['tokens'];
const Movement = relayed(schemas.TokenMovement);
const AccountParams = Type.Object({ accountId: schemas.AccountId });
/** Only organisation accounts are kept as a base record plus deltas (the chaincode's rule). */
const OrgAccountId = Type.String({ pattern: '^org:[A-Za-z0-9._-]{1,64}$', description: 'an organisation account, e.g. org:AggregatorMSP' });

export const tokenRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/mint',
    summary: 'Mint tokens into an organisation or prosumer account',
    tags,
    roles: ['dso'],
    transaction: 'mint',
    body: schemas.MintInput,
    argument: ({ body }) => body,
    response: Movement,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/burn',
    summary: 'Burn tokens of an account (redeemed off-chain)',
    tags,
    roles: ['dso'],
    transaction: 'burn',
    body: schemas.BurnInput,
    argument: ({ body }) => body,
    response: Movement,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/transfer',
    summary: "Transfer tokens from the organisation's own account",
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'transfer',
    body: schemas.TransferInput,
    argument: ({ body }) => body,
    response: relayed(schemas.TokenTransfer),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/tokens/supply',
    summary: 'Minted, burned and outstanding tokens',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getSupply',
    argument: () => ({}),
    response: relayed(schemas.SupplyView),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/compact',
    summary: 'Fold the delta records of one organisation account (or, without accountId, of every one and of the supply) into their base records',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'compactBalances',
    body: Type.Object({ accountId: Type.Optional(OrgAccountId) }, { additionalProperties: false }),
    argument: ({ body }) => (body.accountId === undefined ? {} : { accountId: body.accountId }),
    // Concurrent credits can outlast the MVCC resubmissions: 503 LEDGER_CONTENDED, which the client resends.
    response: relayed(schemas.Compaction),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/tokens/supply-audit',
    summary: 'The supply invariant checked over every account: minted - burned - all balances and escrows (imbalance "0" when it holds)',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'auditSupply',
    argument: () => ({}),
    response: relayed(schemas.SupplyAudit),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/accounts/:accountId/balance',
    summary: 'Balance of one account',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getBalance',
    params: AccountParams,
    argument: ({ params }) => ({ account: params.accountId }),
    response: relayed(schemas.Account),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/accounts',
    summary: 'Balances of the listed accounts (`?ids=a,b`), or of every account',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getBalances',
    querystring: Type.Object(
      { ids: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000, description: 'comma-separated account ids' })) },
      { additionalProperties: false },
    ),
    argument: ({ query }) => (typeof query.ids === 'string' ? { accounts: query.ids.split(',') } : {}),
    response: relayed(schemas.Balances),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/accounts/:accountId/redemptions',
    summary: "A prosumer account's redemptions (withdrawals)",
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'listRedemptions',
    params: AccountParams,
    argument: ({ params }) => ({ account: params.accountId }),
    response: relayed(schemas.Redemptions),
  });
};
