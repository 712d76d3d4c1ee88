// The Apollo Client 3 scenario: a frontend's first minutes against a served instance.
// Run: node dist/apollo3.js with the CRM_CLIENTS_* variables of support.ts set.
import { strict as assert } from "node:assert";

import {
  ApolloClient,
  ApolloLink,
  HttpLink,
  InMemoryCache,
  type NormalizedCacheObject,
} from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { relayStylePagination } from "@apollo/client/utilities/index.js";

import {
  CustomersDocument,
  DashboardDocument,
  LoginDocument,
  RefreshTokenDocument,
  RenameCustomerDocument,
  SystemModulesDocument,
  ViewerDocument,
  type RenameCustomerMutation,
} from "./generated/graphql.js";
import {
  EXPIRED_TOKEN_CODE,
  Session,
  Wire,
  codes,
  present,
  runMain,
  settings,
  sha256,
  step,
  type Settings,
} from "./support.js";

const PAGE = 5;
const LABEL = "Apollo Client 3";

type Client = ApolloClient<NormalizedCacheObject>;
type UpdatePayload = NonNullable<RenameCustomerMutation["updateCustomer"]>;

/** A customer as the client read it, and as it is after the update. */
interface Read {
  readonly id: string;
  readonly name: string;
  readonly version: number;
}

function cache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: { fields: { customers: relayStylePagination(["filter", "orderBy"]) } },
    },
  });
}

function authLink(session: Session): ApolloLink {
  return new ApolloLink((operation, forward) => {
    operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({
      headers: { ...headers, ...session.authorization() },
    }));
    return forward(operation);
  });
}

function makeClient(config: Settings, session: Session, wire: Wire): Client {
  return new ApolloClient({
    link: ApolloLink.from([
      authLink(session),
      new HttpLink({ uri: config.url, fetch: wire.fetch }),
    ]),
    cache: cache(),
  });
}

function persistedClient(config: Settings, wire: Wire): Client {
  return new ApolloClient({
    link: createPersistedQueryLink({ sha256 }).concat(
      new HttpLink({ uri: config.url, fetch: wire.fetch }),
    ),
    cache: cache(),
  });
}

async function login(
  client: Client,
  session: Session,
  email: string,
  password: string,
): Promise<void> {
  const result = await client.mutate({ mutation: LoginDocument, variables: { email, password } });
  const payload = present(present(result.data, "login data").login, "login");
  assert.deepEqual(payload.errors, []);
  assert.ok(Date.parse(present(payload.accessTokenExpiresAt, "accessTokenExpiresAt")) > Date.now());
  session.accessToken = present(payload.accessToken, "accessToken");
  session.refreshToken = present(payload.refreshToken, "refreshToken");

  const viewer = await client.query({ query: ViewerDocument, fetchPolicy: "network-only" });
  assert.equal(present(viewer.data.viewer, "viewer").email, email);
}

/** Two pages through fetchMore, merged by relayStylePagination into one list in the cache. */
async function paginate(client: Client, wire: Wire): Promise<Read> {
  const watched = client.watchQuery({ query: CustomersDocument, variables: { first: PAGE } });
  const subscription = watched.subscribe({});
  try {
    const first = present((await watched.result()).data.customers, "the first page");
    assert.equal(first.edges.length, PAGE);
    assert.ok(first.pageInfo.hasNextPage);
    const total = first.totalCount;
    assert.ok(total > 2 * PAGE, `the demo has ${total} customers`);

    const requests = wire.sent.length;
    const more = await watched.fetchMore({ variables: { after: first.pageInfo.endCursor } });
    const second = present(more.data.customers, "the second page");
    assert.equal(wire.sent.length, requests + 1);
    assert.equal(second.edges.length, PAGE);

    const expected = [...first.edges, ...second.edges].map((edge) => edge.node.id);
    assert.equal(new Set(expected).size, 2 * PAGE, "the pages overlap");
    const merged = present(watched.getCurrentResult().data.customers, "the merged list");
    assert.deepEqual(
      merged.edges.map((edge) => edge.node.id),
      expected,
    );
    assert.equal(merged.pageInfo.endCursor, second.pageInfo.endCursor);
    assert.equal(merged.totalCount, total);

    const cached = present(
      client.readQuery({ query: CustomersDocument, variables: { first: PAGE } }),
      "the cached list",
    );
    assert.deepEqual(
      present(cached.customers, "the cached customers").edges.map((edge) => edge.node.id),
      expected,
    );
    const node = present(first.edges[0], "the first customer").node;
    return { id: node.id, name: node.name, version: node.version };
  } finally {
    subscription.unsubscribe();
  }
}

function cachedCustomer(client: Client, id: string): Record<string, unknown> {
  const key = present(client.cache.identify({ __typename: "Customer", id }), "cache key");
  assert.equal(key, `Customer:${id}`);
  return present(client.cache.extract()[key], `cache entry ${key}`);
}

/** updateCustomer with the version read: the normalised Customer changes, with no refetch. */
async function updateInCache(client: Client, wire: Wire, read: Read): Promise<Read> {
  const name = `${read.name} (${LABEL})`;
  const requests = wire.sent.length;
  const result = await client.mutate({
    mutation: RenameCustomerDocument,
    variables: { id: read.id, version: read.version, name },
  });
  const payload = present(
    present(result.data, "updateCustomer data").updateCustomer,
    "updateCustomer",
  );
  assert.deepEqual(payload.errors, []);
  const customer = present(payload.customer, "updated customer");
  assert.equal(customer.version, read.version + 1);
  assert.equal(customer.name, name);
  assert.ok(Date.parse(customer.updatedAt) > 0);

  const list = present(
    client.readQuery({ query: CustomersDocument, variables: { first: PAGE } }),
    "the cached list",
  );
  const listed = present(
    present(list.customers, "the cached customers").edges.find((edge) => edge.node.id === read.id),
    "the customer in the cached list",
  ).node;
  assert.equal(listed.name, name);
  assert.equal(listed.version, read.version + 1);
  const entry = cachedCustomer(client, read.id);
  assert.equal(entry["name"], name);
  assert.equal(entry["version"], read.version + 1);
  assert.equal(wire.sent.length, requests + 1, "the update caused a refetch");
  return { id: read.id, name, version: customer.version };
}

/** The payload of a CONFLICT answers with the current object (and the cache keeps it). */
export function assertCurrentObject(client: Client, payload: UpdatePayload, current: Read): void {
  const customer = present(payload.customer, "the current customer in the CONFLICT payload");
  assert.equal(customer.id, current.id);
  assert.equal(customer.version, current.version);
  assert.equal(customer.name, current.name);
  assert.equal(cachedCustomer(client, current.id)["version"], current.version);
}

/** An update with a stale version is refused with CONFLICT on `version` and answers the
 * current object, which the cache keeps; nothing changes. */
async function conflict(client: Client, stale: Read, current: Read): Promise<void> {
  const result = await client.mutate({
    mutation: RenameCustomerDocument,
    variables: { id: stale.id, version: stale.version, name: `${stale.name} (stale)` },
  });
  const payload = present(
    present(result.data, "updateCustomer data").updateCustomer,
    "updateCustomer",
  );
  assert.deepEqual(codes(payload.errors), ["CONFLICT"]);
  assert.equal(payload.errors[0]?.field, "version");
  assertCurrentObject(client, payload, current);
  const entry = cachedCustomer(client, current.id);
  assert.equal(entry["name"], current.name);
  assert.equal(entry["version"], current.version);
}

/** createPersistedQueryLink: an unknown hash, then the document; another client, the hash only. */
async function persistedQueries(config: Settings): Promise<void> {
  const first = new Wire();
  const a = await persistedClient(config, first).query({ query: SystemModulesDocument });
  assert.deepEqual(
    first.sent.map((sent) => sent.hasQuery),
    [false, true],
  );
  assert.deepEqual(
    first.received.map((received) => received.codes),
    [["PERSISTED_QUERY_NOT_FOUND"], []],
  );
  const hash = present(first.sent[0]?.hash, "the hash");
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(first.sent[1]?.hash, hash);

  const second = new Wire();
  const b = await persistedClient(config, second).query({ query: SystemModulesDocument });
  assert.deepEqual(second.sent, [{ operationName: "SystemModules", hasQuery: false, hash }]);
  assert.deepEqual(second.received, [{ status: 200, codes: [] }]);
  assert.deepEqual(b.data, a.data);
  assert.ok(present(b.data.system, "system").modules.some((module) => module.name === "core"));
}

/** A dashboard whose one forbidden field (auditEvents) leaves the rest of `data` intact. */
export async function dashboardPartialData(config: Settings): Promise<void> {
  const session = new Session();
  const client = makeClient(config, session, new Wire());
  await login(client, session, config.limitedEmail, config.password);
  const result = await client.query({ query: DashboardDocument, errorPolicy: "all" });
  const errors = present(result.errors, "the errors");
  assert.deepEqual(
    errors.map((error) => [error.path, error.extensions?.["code"]]),
    [[["auditEvents"], "FORBIDDEN"]],
  );
  const data = present(result.data, "data");
  assert.equal(present(data.viewer, "viewer").email, config.limitedEmail);
  assert.ok(present(data.customers, "customers").totalCount > 0);
  assert.equal(data.auditEvents, null);
}

/** Two refreshes of one refresh token at once: both answer tokens, the session lives on. */
export async function concurrentRefreshes(config: Settings): Promise<void> {
  const session = new Session();
  const client = makeClient(config, session, new Wire());
  await login(client, session, config.email, config.password);
  const refreshToken = present(session.refreshToken, "refreshToken");
  const refresh = (token: string) =>
    client.mutate({ mutation: RefreshTokenDocument, variables: { refreshToken: token } });
  const answers = await Promise.all([refresh(refreshToken), refresh(refreshToken)]);
  const payloads = answers.map((answer) =>
    present(present(answer.data, "refreshToken data").refreshToken, "refreshToken"),
  );
  for (const payload of payloads) {
    assert.deepEqual(payload.errors, []);
    session.accessToken = present(payload.accessToken, "accessToken");
    const viewer = await client.query({ query: ViewerDocument, fetchPolicy: "network-only" });
    assert.equal(present(viewer.data.viewer, "viewer").email, config.email);
  }
  const next = present(payloads[1]?.refreshToken, "the second refresh token");
  const later = present(
    present((await refresh(next)).data, "refreshToken data").refreshToken,
    "refreshToken",
  );
  assert.deepEqual(later.errors, []);
  assert.ok(later.accessToken);
}

/** An expired access token is answered with its own code, so the client knows to refresh. */
export async function expiredTokenCode(config: Settings): Promise<void> {
  const session = new Session();
  session.accessToken = config.expiredToken;
  const client = makeClient(config, session, new Wire());
  const result = await client.query({ query: ViewerDocument, errorPolicy: "all" });
  const errors = present(result.errors, "the errors");
  assert.deepEqual(
    errors.map((error) => error.extensions?.["code"]),
    [EXPIRED_TOKEN_CODE],
  );
}

async function main(): Promise<void> {
  const config = settings();
  const session = new Session();
  const wire = new Wire();
  const client = makeClient(config, session, wire);
  let read: Read | undefined;
  let updated: Read | undefined;

  await step("login", () => login(client, session, config.email, config.password));
  await step("cache-merged pagination", async () => {
    read = await paginate(client, wire);
  });
  await step("versioned update normalised in the cache", async () => {
    updated = await updateInCache(client, wire, present(read, "a customer read"));
  });
  await step("CONFLICT on a stale version", () =>
    conflict(client, present(read, "a customer read"), present(updated, "the updated customer")),
  );
  await step("persisted queries", () => persistedQueries(config));
  await step("a dashboard keeps its data beside one forbidden field", () =>
    dashboardPartialData(config),
  );
  await step("two concurrent refreshes keep the session", () => concurrentRefreshes(config));
  await step("an expired access token has its own code", () => expiredTokenCode(config));
}

runMain(main);
