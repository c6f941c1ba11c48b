// A dedicated LISTEN connection (postgres.js): one per process, apart from the query pool,
// because a listening session must stay pinned. postgres.js reconnects it by itself after
// the server restarts and calls `onListen` again, so the caller can catch up on what was
// announced while it was away.
import postgres from "postgres";

export type ListenHandle = { close: () => Promise<void> };

export async function listenChannel(url: string, channel: string, onPayload: (payload: string) => void, onListen: () => void): Promise<ListenHandle> {
  // Reconnect attempts every ≤ 2 s (postgres.js's default backs off to 20 s): until LISTEN is
  // back, changes are not announced, so a boot server's memory is stale for that long.
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, idle_timeout: 0, max_lifetime: null, backoff: (attempt: number) => Math.min(0.25 * 2 ** attempt, 2) });
  try {
    const sub = await sql.listen(channel, onPayload, onListen);
    return {
      close: async () => {
        await sub.unlisten().catch(() => {});
        await sql.end({ timeout: 2 });
      },
    };
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw e;
  }
}
