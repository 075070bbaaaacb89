// A program written against the TypeScript client generated from openapi/burnbox.json
// (openapi-typescript's types driving openapi-fetch), run against the live server by
// tests/clients/run.sh after `tsc --strict` has checked every call and every field it reads
// against the generated types.
// Usage: node build/flow.js BASE_URL ACCOUNT_EMAIL API_KEY
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/burnbox.js";

type ErrorCode = components["schemas"]["ErrorCode"];
type ErrorBody = components["schemas"]["ErrorBody"];
type FileForm = components["schemas"]["CreateFileRequest"];
type TextView = components["schemas"]["ViewSecretResponse"];
type CreateBody = FileForm | components["schemas"]["CreateSecretRequest"];

const PASSPHRASE = "correct horse battery staple";
const [baseUrl = "", email = "", apiKey = ""] = process.argv.slice(2);

const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

/** The typed error of a refused request, after checking its status and code. */
function refused(
  answer: { error?: ErrorBody | undefined; response: Response },
  status: number,
  code: ErrorCode,
): ErrorBody {
  assert.equal(answer.response.status, status);
  assert.ok(answer.error, "an error body");
  assert.equal(answer.error.code, code, JSON.stringify(answer.error));
  return answer.error;
}

/** A view's answer is a text secret's JSON or a file's bytes: this is the JSON. */
function textView<D extends object>(data: D | undefined): Extract<D, TextView> {
  assert.ok(data !== undefined && "secret" in data, "a text secret's JSON answer");
  return data as Extract<D, TextView>;
}

/** The create body as openapi-fetch sends it: a file form as multipart, anything else as JSON. */
function createBody(body: CreateBody): FormData | string {
  if (!("file" in body)) {
    return JSON.stringify(body);
  }
  const data = new FormData();
  for (const [name, value] of Object.entries(body)) {
    if (value instanceof File) {
      data.append(name, value, value.name);
    } else if (value instanceof Blob) {
      data.append(name, value);
    } else if (value !== undefined) {
      data.append(name, String(value));
    }
  }
  return data;
}

async function nativeTextSecret(): Promise<void> {
  const text = "hunter2 ✓ from the TypeScript client";
  const created = await api.POST("/api/secrets", {
    body: { secret: text, passphrase: PASSPHRASE, maxViews: 2, ttl: 3600 },
  });
  assert.ok(created.data, JSON.stringify(created.error));
  const { key: metadataKey, secretKey } = created.data.metadata;
  assert.equal(created.data.metadata.hasPassphrase, true);

  const byMetadata = await api.GET("/api/secrets/{key}", { params: { path: { key: metadataKey } } });
  assert.equal(byMetadata.data?.type, "metadata");
  assert.equal(byMetadata.data?.secretKey, secretKey);
  const bySecret = await api.GET("/api/secrets/{key}", { params: { path: { key: secretKey } } });
  assert.equal(bySecret.data?.type, "secret");
  assert.equal(bySecret.data?.viewCount, 0);

  const path = { params: { path: { key: secretKey } } };
  const wrong = refused(
    await api.POST("/api/secrets/{key}", { ...path, body: { passphrase: "no" } }),
    401,
    "INVALID_PASSPHRASE",
  );
  assert.equal(wrong.triesLeft, 4);

  const viewed = await api.POST("/api/secrets/{key}", { ...path, body: { passphrase: PASSPHRASE } });
  const view = textView(viewed.data);
  assert.equal(view.secret, text);
  assert.equal(view.viewsRemaining, 1);

  const burned = await api.DELETE("/api/secrets/{key}", { params: { path: { key: metadataKey } } });
  assert.equal(burned.data?.success, true);
  refused(
    await api.POST("/api/secrets/{key}", { ...path, body: { passphrase: PASSPHRASE } }),
    410,
    "SECRET_BURNED",
  );
}

async function nativeFileSecret(): Promise<void> {
  const content = randomBytes(3000);
  const form: FileForm = {
    file: new File([content], "notes.bin", { type: "application/octet-stream" }),
    secret: "the key file",
    maxViews: 2,
  };
  const created = await api.POST("/api/secrets", { body: form, bodySerializer: createBody });
  assert.ok(created.data, JSON.stringify(created.error));
  const { secretKey, key } = created.data.metadata;

  const status = await api.GET("/api/secrets/{key}", { params: { path: { key: secretKey } } });
  assert.equal(status.data?.file?.name, "notes.bin");
  assert.equal(status.data?.file?.size, content.length);

  const viewed = await api.POST("/api/secrets/{key}", {
    params: { path: { key: secretKey } },
    parseAs: "arrayBuffer",
  });
  assert.equal(viewed.response.status, 200);
  assert.ok(viewed.data instanceof ArrayBuffer);
  assert.deepEqual(Buffer.from(viewed.data), content);
  assert.equal(viewed.response.headers.get("X-Views-Remaining"), "1");
  assert.equal(decodeURIComponent(viewed.response.headers.get("X-Secret-Note") ?? ""), "the key file");

  const burned = await api.DELETE("/api/secrets/{key}", { params: { path: { key } } });
  assert.equal(burned.data?.success, true);
}

async function endToEndSecret(): Promise<void> {
  const sealed = {
    ciphertext: randomBytes(48).toString("base64"),
    iv: randomBytes(12).toString("base64"),
  };
  const created = await api.POST("/api/secrets", { body: { secret: sealed } });
  assert.ok(created.data, JSON.stringify(created.error));
  assert.equal(created.data.metadata.encrypted, true);
  const viewed = await api.POST("/api/secrets/{key}", {
    params: { path: { key: created.data.metadata.secretKey } },
  });
  assert.deepEqual(textView(viewed.data).secret, sealed);
}

async function onetimeSecretDialect(): Promise<void> {
  const basic = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Basic ${Buffer.from(`${email}:${apiKey}`).toString("base64")}` },
  });
  const shared = await basic.POST("/api/v1/share", {
    body: { secret: "from OTS", passphrase: PASSPHRASE, ttl: 3600 },
  });
  assert.ok(shared.data, JSON.stringify(shared.error));
  assert.equal(shared.data.custid, email);
  assert.equal(shared.data.state, "new");
  const { metadata_key: metadataKey, secret_key: secretKey } = shared.data;
  assert.ok(secretKey);

  const receipt = await basic.GET("/api/v1/private/{key}", {
    params: { path: { key: metadataKey } },
  });
  assert.equal(receipt.data?.passphrase_required, true);

  const wrong = await basic.POST("/api/v1/secret/{key}", {
    params: { path: { key: secretKey } },
    body: { passphrase: "no" },
  });
  assert.equal(wrong.response.status, 422);
  assert.ok(wrong.error?.message, "Onetime Secret's error body");

  const revealed = await basic.POST("/api/v1/secret/{key}", {
    params: { path: { key: secretKey } },
    body: { passphrase: PASSPHRASE },
  });
  assert.equal(revealed.data?.value, "from OTS");

  const toBurn = await basic.POST("/api/v1/share", { body: { secret: "burn me" } });
  assert.ok(toBurn.data);
  const burned = await basic.POST("/api/v1/private/{key}/burn", {
    params: { path: { key: toBurn.data.metadata_key } },
    body: {},
  });
  assert.equal(burned.data?.state.state, "burned");
}

/** An anonymous caller (10 requests an hour) meets 429, read as a typed error. */
async function overTheQuota(): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });
  for (let i = 0; i < 30; i += 1) {
    const answer = await anonymous.GET("/api/secrets/{key}", {
      params: { path: { key: "nosuchsecretkey" } },
    });
    if (answer.response.status === 429) {
      refused(answer, 429, "RATE_LIMIT_EXCEEDED");
      assert.ok(Number(answer.response.headers.get("Retry-After")) > 0);
      assert.equal(answer.response.headers.get("X-RateLimit-Remaining"), "0");
      return;
    }
    refused(answer, 404, "NOT_FOUND");
  }
  assert.fail("no 429 after 30 anonymous requests");
}

await nativeTextSecret();
await nativeFileSecret();
await endToEndSecret();
await onetimeSecretDialect();
await overTheQuota();
console.log("typescript client: every operation answered as its generated types say");
