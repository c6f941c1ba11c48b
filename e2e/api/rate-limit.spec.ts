import { expect, test } from "@playwright/test";
import { readState, uniqueEmail } from "../support/state";

test("[AUTH] sign-in does not reveal accounts, and failures past a few make each further attempt wait longer (429 + Retry-After)", async ({ request }) => {
  const { rateLimitPerAccount } = readState();
  const ghost = uniqueEmail("ghost");
  const attempt = () => request.post("/api/session", { data: { login: ghost, password: "whatever it is" } });

  const unknown = await attempt();
  expect(unknown.status()).toBe(401);
  const known = await request.post("/api/session", { data: { login: "root@lab.example", password: "not the password" } });
  expect(known.status()).toBe(401);
  expect(await unknown.json()).toEqual(await known.json());

  for (let i = 1; i < rateLimitPerAccount; i++) expect((await attempt()).status()).toBe(401);
  const limited = await attempt();
  expect(limited.status()).toBe(429);
  expect(limited.headers()["retry-after"]).toBe("1");
  const body = (await limited.json()) as { error: { code: string; message: string } };
  expect(body.error).toEqual({
    code: "rate_limited",
    message: "Too many failed sign-in attempts for this account. Please wait 1 second and try again.",
    details: { retryAfterSeconds: 1 },
  });

  // After the wait one more try is answered, and the next wait is twice as long.
  await new Promise((r) => setTimeout(r, 1100));
  expect((await attempt()).status()).toBe(401);
  const longer = await attempt();
  expect(longer.status()).toBe(429);
  expect(longer.headers()["retry-after"]).toBe("2");
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
