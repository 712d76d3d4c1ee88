// What every scenario shares: its settings, a fetch that records what went over the wire,
// and the step runner that prints one "ok <step>" line per step that passed.
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";

/** The code an expired access token is answered with (extensions.code). */
export const EXPIRED_TOKEN_CODE = "TOKEN_EXPIRED";

export interface Settings {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql. */
  readonly url: string;
  /** A user who sees every customer (the demo administrator). */
  readonly email: string;
  readonly password: string;
  /** A user without audit:read (a demo sales representative), same password. */
  readonly limitedEmail: string;
  /** An access token of a real session whose lifetime is over. */
  readonly expiredToken: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

export function settings(): Settings {
  return {
    url: required("CRM_CLIENTS_URL"),
    email: required("CRM_CLIENTS_EMAIL"),
    password: required("CRM_CLIENTS_PASSWORD"),
    limitedEmail: required("CRM_CLIENTS_LIMITED_EMAIL"),
    expiredToken: required("CRM_CLIENTS_EXPIRED_TOKEN"),
  };
}

/** One request as it was sent. */
export interface Sent {
  readonly operationName: string | undefined;
  /** Whether the body carried the document (`query`). */
  readonly hasQuery: boolean;
  /** extensions.persistedQuery.sha256Hash, when the body had one. */
  readonly hash: string | undefined;
}

/** One response as it came back: its status and the codes of its errors. */
export interface Received {
  readonly status: number;
  readonly codes: string[];
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function codesOf(body: unknown): string[] {
  const errors = objectOf(body)?.["errors"];
  if (!Array.isArray(errors)) {
    return [];
  }
  return errors.map((error: unknown) =>
    String(objectOf(objectOf(error)?.["extensions"])?.["code"]),
  );
}

/** A fetch for HttpLink that keeps what each request sent and what each response said. */
export class Wire {
  readonly sent: Sent[] = [];
  readonly received: Received[] = [];

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const body: unknown = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    const request = objectOf(body);
    const persisted = objectOf(objectOf(request?.["extensions"])?.["persistedQuery"]);
    this.sent.push({
      operationName:
        typeof request?.["operationName"] === "string" ? request["operationName"] : undefined,
      hasQuery: typeof request?.["query"] === "string",
      hash: typeof persisted?.["sha256Hash"] === "string" ? persisted["sha256Hash"] : undefined,
    });
    const response = await fetch(input, init);
    const text = await response.clone().text();
    this.received.push({ status: response.status, codes: codesOf(JSON.parse(text)) });
    return response;
  };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The signed-in user's tokens, read by the auth link of each request. */
export class Session {
  accessToken: string | null = null;
  refreshToken: string | null = null;

  authorization(): Record<string, string> {
    return this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {};
  }
}

/** The payload errors' codes, in order. */
export function codes(errors: ReadonlyArray<{ readonly code: string }>): string[] {
  return errors.map((error) => error.code);
}

/** Asserts that `value` is neither null nor undefined, and narrows it. */
export function present<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== null && value !== undefined, `${what} is missing`);
  return value;
}

export async function step(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    console.error(`FAILED ${name}`);
    throw error;
  }
  console.log(`ok ${name}`);
}

export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
