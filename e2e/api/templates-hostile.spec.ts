import { expect, test } from "@playwright/test";
import { adminToken, apiOk, registerResearcher } from "../support/api";
import { addMember, createPool, createProject, randomMac, uniqueName } from "../support/inventory";

// The real `npm start` (Next's production build inside scripts/web.ts): templates render on
// the render pool's worker threads, loaded by path from inside the bundled route code.
test("[TEMPLATES] hostile previews are stopped as template errors while /boot/chain.ipxe and /boot/<mac> keep answering, and a normal preview still renders", async ({ request }) => {
  const admin = await adminToken(uniqueName("templates-hostile"));
  const pool = await createPool(admin, { name: uniqueName("pool") });
  const project = await createProject(admin, { name: uniqueName("proj") });
  const { email, tokens } = await registerResearcher("hostile", 1);
  const researcher = tokens[0]!;
  const { userId } = await addMember(admin, project.id, email);
  const mac = randomMac();
  const host = await apiOk<{ id: string; name: string }>(admin, "POST", "/api/v1/hosts", { name: uniqueName("hostile"), poolId: pool.id, interfaces: [{ mac }] }, 201);
  await apiOk(admin, "POST", "/api/v1/leases", { hostIds: [host.id], userId, projectId: project.id, durationHours: 1 }, 201);

  const hostile = [
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{% set a = [1] %}{% for i in range(60) %}{% set a = [a, a] %}{% if loop.last %}{{ a }}{% endif %}{% endfor %}",
    "{% set s = 'x' * 1000000 %}{% for i in range(100000) %}{% if 'y' in s %}{% endif %}{% endfor %}",
    "{{ " + "[".repeat(3000) + "]".repeat(3000) + " }}",
  ];
  const previews = hostile.map((source) =>
    request.post("/api/v1/templates/preview", { headers: { authorization: `Bearer ${researcher}` }, data: { hostId: host.id, source } }),
  );
  const worst = { chain: 0, boot: 0 };
  let done = false;
  const all = Promise.all(previews).finally(() => (done = true));
  while (!done) {
    let t = Date.now();
    expect((await request.get("/boot/chain.ipxe")).status()).toBe(200);
    worst.chain = Math.max(worst.chain, Date.now() - t);
    t = Date.now();
    expect((await request.get(`/boot/${mac.replace(/:/g, "-")}`)).status()).toBe(200);
    worst.boot = Math.max(worst.boot, Date.now() - t);
  }
  for (const r of await all) {
    expect(r.status()).toBe(200);
    expect(await r.json()).toMatchObject({ ok: false, error: { kind: expect.stringMatching(/^(limit|syntax)$/), line: 1 } });
  }
  console.log(`worst while hostile previews ran: /boot/chain.ipxe ${worst.chain} ms, /boot/<mac> ${worst.boot} ms`);
  expect(worst.chain).toBeLessThan(200);
  expect(worst.boot).toBeLessThan(200);

  const ok = await apiOk(researcher, "POST", "/api/v1/templates/preview", { hostId: host.id, source: "#!ipxe\necho {{ host.name }}\n" }, 200);
  expect(ok).toMatchObject({ ok: true, output: `#!ipxe\necho ${host.name}\n` });
});
