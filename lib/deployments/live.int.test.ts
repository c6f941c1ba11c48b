// The live feed over real HTTP: GET /api/v1/hosts/:id/events as Server-Sent Events, fed by
// PostgreSQL LISTEN/NOTIFY. A subscriber sees every change of a run, in order, as it
// happens; a reconnect with Last-Event-ID gets exactly what it missed; a stranger gets 404.
import { FakeMachine, startBootServer } from "@/test/harness/provisioning";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as hostEvents from "@/app/api/v1/hosts/[id]/events/route";
import { actorOf, type Actor } from "@/lib/access/actor";
import { createApiToken } from "@/lib/auth/api-tokens";
import { createHost } from "@/lib/hosts/hosts";
import { stopJobSender } from "@/lib/jobs/enqueue";
import { createLease } from "@/lib/leases/leases";
import { addProjectMember, createProject } from "@/lib/projects/projects";
import { syncBuiltinTemplates } from "@/lib/templates/templates";
import { useTestDb } from "@/test/harness/database";
import { setTestEnvDefaults } from "@/test/harness/env";
import { createActiveUser } from "@/test/harness/fixtures";
import { startRouteServer, type RouteServer } from "@/test/harness/http-server";
import { getDeployment } from "./views";
import { startDeployment } from "./start";
import { stopLiveHub } from "./live";

const t = await useTestDb();
let holder: Actor;
let holderToken: string;
let strangerToken: string;
let boot: RouteServer;
let api: RouteServer;
let hostId: string;
let mac: string;

beforeAll(async () => {
  const admin = actorOf((await createActiveUser(t.db, { admin: true })).user, null);
  holder = actorOf((await createActiveUser(t.db)).user, null);
  const stranger = (await createActiveUser(t.db)).user;
  holderToken = (await createApiToken(t.db, holder.user!.id, { name: "sse" })).token;
  strangerToken = (await createApiToken(t.db, stranger.id, { name: "sse" })).token;
  const projectId = (await createProject(t.db, admin, { name: "live" })).id;
  await addProjectMember(t.db, admin, projectId, { userId: holder.user!.id });
  await syncBuiltinTemplates(t.db);
  boot = await startBootServer();
  setTestEnvDefaults({ KILN_BOOT_URL: boot.url });
  mac = "52:54:00:f0:00:01";
  hostId = (await createHost(t.db, admin, { name: "live-1", interfaces: [{ mac }] })).id;
  await createLease(t.db, admin, { hostIds: [hostId], userId: holder.user!.id, projectId });
  api = await startRouteServer((req) => hostEvents.GET(req, { params: Promise.resolve({ id: hostId }) } as never));
});
afterAll(async () => {
  await api?.close();
  await boot?.close();
  await stopLiveHub();
  await stopJobSender();
});

type Event = { id: number; kind: string; [k: string]: any };

/** Reads an SSE stream until `until` says stop; returns the events (with their `id:` lines checked). */
async function follow(p: { token: string; after?: number; lastEventId?: number; until: (events: Event[]) => boolean; onOpen?: () => Promise<void> }) {
  const headers: Record<string, string> = { authorization: `Bearer ${p.token}` };
  if (p.lastEventId !== undefined) headers["last-event-id"] = String(p.lastEventId);
  const controller = new AbortController();
  const res = await fetch(`${api.url}/api/v1/hosts/${hostId}/events${p.after !== undefined ? `?after=${p.after}` : ""}`, { headers, signal: controller.signal });
  if (res.status !== 200) return { status: res.status, events: [] as Event[], contentType: res.headers.get("content-type") };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Event[] = [];
  let buffer = "";
  const opened = p.onOpen?.();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    while (!p.until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const id = /^id: (\d+)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (id && data) {
          const event = JSON.parse(data) as Event;
          expect(event.id).toBe(Number(id));
          events.push(event);
        }
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
    await opened;
  }
  return { status: 200, events, contentType: res.headers.get("content-type") };
}

const describeEvent = (e: Event) => (e.kind === "step" ? `step ${e.name} ${e.state}` : e.kind === "state" ? `state ${e.state}` : e.kind === "progress" ? `progress ${e.bytes}` : e.kind);

describe("live status over Server-Sent Events", () => {
  it("a subscriber receives every change of a run in order; a reconnect with Last-Event-ID resumes where it stopped", async () => {
    const machine = new FakeMachine(boot, mac);
    const started = await startDeployment(t.db, holder, hostId, { action: "wipe_disk" });
    const { lastEventId: before } = await getDeployment(t.db, holder, started.id);
    // The manual driver cannot switch the machine off, so the wipe ends with the agent's done
    // (the ramdisk powers itself off) and no worker step follows.
    const finished = (events: Event[]) => events.some((e) => e.kind === "state" && e.state === "done");

    const live = await follow({
      token: holderToken,
      after: 0,
      until: finished,
      // The machine acts while the stream is open: these events arrive live, not from a replay.
      onOpen: async () => {
        await new Promise((r) => setTimeout(r, 200));
        await machine.boot();
        await machine.instructions();
        await machine.progress({ bytes: 10, totalBytes: 100 });
        await machine.progress({ bytes: 100, totalBytes: 100 });
        await machine.log(["wiped sda"]);
        await machine.done();
      },
    });
    expect(live.contentType).toMatch(/^text\/event-stream/);
    const ids = live.events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const steps = live.events.filter((e) => e.kind === "step").map(describeEvent);
    expect(steps).toEqual([
      "step power_on running",
      "step power_on done",
      "step boot done",
      "step agent running",
      "step agent done",
      "step wipe running",
      "step wipe done",
    ]);
    expect(live.events.map(describeEvent)).toEqual(expect.arrayContaining(["created", "state running", "progress 10", "progress 100", "log", "state done"]));
    expect(live.events.filter((e) => e.kind === "progress").map((e) => e.bytes)).toEqual([10, 100]);
    expect(live.events.every((e) => e.id > 0 && (e.id <= before || e.deploymentId === started.id))).toBe(true);

    // Reconnect after the fourth event: exactly the rest, nothing twice.
    const cut = live.events[3]!.id;
    const resumed = await follow({ token: holderToken, lastEventId: cut, until: (events) => events.length >= live.events.length - 4 });
    expect(resumed.events.map((e) => e.id)).toEqual(ids.slice(4));
  });

  it("answers 404 to someone who does not hold the host, and 401 without a token", async () => {
    expect((await follow({ token: strangerToken, until: () => true })).status).toBe(404);
    const res = await fetch(`${api.url}/api/v1/hosts/${hostId}/events`);
    expect(res.status).toBe(401);
  });
});
