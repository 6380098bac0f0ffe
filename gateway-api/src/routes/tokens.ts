import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { TX } from '../ledger/transactions';
import { cc, Record_ } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['tokens'];
const Movement = Record_('token movement', { amount: Type.String() });
const Account = Record_('account balance', { accountId: Type.String(), balance: Type.String() });
const AccountParams = Type.Object({ accountId: cc.AccountId });
/** Only organisation accounts are kept as a base record plus deltas (the chaincode's rule). */
const OrgAccountId = Type.String({ pattern: '^org:[A-Za-z0-9._-]{1,64}$', description: 'an organisation account, e.g. org:AggregatorMSP' });

export const tokenRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/mint',
    summary: 'Mint tokens into an organisation or prosumer account',
    tags,
    roles: ['dso'],
    transaction: TX.mint,
    kind: 'submit',
    body: cc.MintInput,
    argument: ({ body }) => body,
    response: Movement,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/burn',
    summary: 'Burn tokens of an account (redeemed off-chain)',
    tags,
    roles: ['dso'],
    transaction: TX.burn,
    kind: 'submit',
    body: cc.BurnInput,
    argument: ({ body }) => body,
    response: Movement,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/transfer',
    summary: "Transfer tokens from the organisation's own account",
    tags,
    roles: ['dso', 'aggregator'],
    transaction: TX.transfer,
    kind: 'submit',
    body: cc.TransferInput,
    argument: ({ body }) => body,
    response: Movement,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/tokens/supply',
    summary: 'Minted, burned and outstanding tokens',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.getSupply,
    kind: 'evaluate',
    argument: () => ({}),
    response: Record_('token supply', { minted: Type.String(), burned: Type.String(), outstanding: Type.String() }),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/tokens/compact',
    summary: 'Fold the delta records of one organisation account (or, without accountId, of every one and of the supply) into their base records',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: TX.compactBalances,
    kind: 'submit',
    body: Type.Object({ accountId: Type.Optional(OrgAccountId) }, { additionalProperties: false }),
    argument: ({ body }) => (body.accountId === undefined ? {} : { accountId: body.accountId }),
    // Concurrent credits can make it fail with an MVCC conflict (409): expected, retry later.
    response: Record_('compaction', {
      compacted: Type.Array(Record_('one account (accountId) or the supply (supply), and how many deltas were folded', { deltas: Type.Integer() })),
    }),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/tokens/supply-audit',
    summary: 'The supply invariant checked over every account: minted - burned - all balances and escrows (imbalance "0" when it holds)',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: TX.auditSupply,
    kind: 'evaluate',
    argument: () => ({}),
    response: Record_('supply audit', {
      minted: Type.String(),
      burned: Type.String(),
      balances: Type.String({ description: 'sum of all accounts: escrows, prosumers, organisations' }),
      accounts: Type.Integer(),
      imbalance: Type.String({ description: 'minted - burned - balances; "0" when the invariant holds' }),
    }),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/accounts/:accountId/balance',
    summary: 'Balance of one account',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.getBalance,
    kind: 'evaluate',
    params: AccountParams,
    argument: ({ params }) => ({ account: params.accountId }),
    response: Account,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/accounts',
    summary: 'Balances of the listed accounts (`?ids=a,b`), or of every account',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.getBalances,
    kind: 'evaluate',
    querystring: Type.Object(
      { ids: Type.Optional(Type.String({ minLength: 1, maxLength: 100_000, description: 'comma-separated account ids' })) },
      { additionalProperties: false },
    ),
    argument: ({ query }) => (typeof query.ids === 'string' ? { accounts: query.ids.split(',') } : {}),
    response: Record_('balances', { accounts: Type.Array(Account) }),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/accounts/:accountId/redemptions',
    summary: "A prosumer account's redemptions (withdrawals)",
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.listRedemptions,
    kind: 'evaluate',
    params: AccountParams,
    argument: ({ params }) => ({ account: params.accountId }),
    response: Record_('redemptions', { redemptions: Type.Array(Record_('redemption')) }),
  });
};
