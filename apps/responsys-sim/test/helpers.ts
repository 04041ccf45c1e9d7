import { DEMO_ACCOUNT, type SimAccount } from "../src/index.ts";

// A minimal client written from the contract for these tests only (the luxrelay client is
// tested against the simulator separately; neither imports the other). Plain fetch to
// 127.0.0.1.

export const API = "/rest/api/v1.3";

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test replies are inspected field by field.
  json: any;
  text: string;
}

async function read(response: Response): Promise<Reply> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

export async function login(host: string, account: SimAccount = DEMO_ACCOUNT): Promise<Reply> {
  const body = new URLSearchParams({
    user_name: account.user,
    password: account.password,
    auth_type: "password",
  });
  return read(
    await fetch(`${host}${API}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    }),
  );
}

export async function refresh(host: string, token: string): Promise<Reply> {
  return read(
    await fetch(`${host}${API}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: token },
      body: "auth_type=token",
    }),
  );
}

export async function call(
  host: string,
  token: string,
  path: string,
  body?: unknown,
  method = "POST",
): Promise<Reply> {
  return read(
    await fetch(`${host}${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: token },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    }),
  );
}

/** A merge body in the contract's shape: EMAIL_ADDRESS_ (+ CUSTOMER_ID_) matched on email. */
export function mergeBody(rows: string[][], rule: Record<string, unknown> = {}) {
  return {
    recordData: {
      fieldNames: ["EMAIL_ADDRESS_", "CUSTOMER_ID_"],
      records: rows,
      mapTemplateName: null,
    },
    mergeRule: {
      insertOnNoMatch: true,
      updateOnMatch: "REPLACE_ALL",
      matchColumnName1: "EMAIL_ADDRESS_",
      matchColumnName2: null,
      matchOperator: "NONE",
      defaultPermissionStatus: "OPTIN",
      ...rule,
    },
  };
}

/** A trigger body: one recipient per address, by email, on list LIST. */
export function triggerBody(emails: string[], listName: string | null = "LIST") {
  return {
    recipientData: emails.map((emailAddress) => ({
      recipient: {
        emailAddress,
        listName: listName === null ? null : { folderName: "F", objectName: listName },
        recipientId: null,
        customerId: null,
        mobileNumber: null,
        emailFormat: "HTML_FORMAT",
      },
      optionalData: [{ name: "FIRST_NAME", value: "Ann" }],
    })),
  };
}

export async function admin(adminUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return read(response);
}
