import { expect, test } from "@playwright/test";
import { readState, uniqueEmail } from "../support/state";

test("[AUTH] sign-in does not reveal accounts and is rate-limited per account with a clear 429", async ({ request }) => {
  const { rateLimitPerAccount } = readState();
  const ghost = uniqueEmail("ghost");

  const unknown = await request.post("/api/session", { data: { login: ghost, password: "whatever it is" } });
  expect(unknown.status()).toBe(401);
  const known = await request.post("/api/session", { data: { login: "root@lab.example", password: "not the password" } });
  expect(known.status()).toBe(401);
  expect(await unknown.json()).toEqual(await known.json());

  for (let i = 1; i < rateLimitPerAccount; i++) {
    expect((await request.post("/api/session", { data: { login: ghost, password: "whatever it is" } })).status()).toBe(401);
  }
  const limited = await request.post("/api/session", { data: { login: ghost, password: "whatever it is" } });
  expect(limited.status()).toBe(429);
  expect(Number(limited.headers()["retry-after"])).toBeGreaterThan(0);
  const body = (await limited.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("rate_limited");
  expect(body.error.message).toMatch(/Too many sign-in attempts for this account\. Please wait \d+ (seconds|minutes)/);
});

test("[AUTH] malformed requests get a 400 with a readable message and no stack trace", async ({ request }) => {
  const notJson = await request.post("/api/session", { data: Buffer.from("{not json"), headers: { "content-type": "application/json" } });
  expect(notJson.status()).toBe(400);
  const text = await notJson.text();
  expect(text).toContain("must be JSON");
  expect(text).not.toMatch(/at .*\.(ts|js):\d+/);

  const notObject = await request.post("/api/session", { data: Buffer.from('"a string"'), headers: { "content-type": "application/json" } });
  expect(notObject.status()).toBe(400);
  expect(((await notObject.json()) as { error: { message: string } }).error.message).toBe("The request body must be a JSON object.");

  const form = await request.post("/api/session", { form: { login: "root@lab.example", password: "x" } });
  expect(form.status()).toBe(400);
  expect(((await form.json()) as { error: { message: string } }).error.message).toContain("Content-Type: application/json");

  const badEmail = await request.post("/api/account/register", { data: { email: "nope", password: "long enough pass" } });
  expect(badEmail.status()).toBe(400);
  expect(((await badEmail.json()) as { error: { details: { fieldErrors: Record<string, string[]> } } }).error.details.fieldErrors.email).toBeTruthy();
});
