// A dedicated LISTEN connection (postgres.js): one per process, apart from the query pool,
// because a listening session must stay pinned. postgres.js reconnects it by itself after
// the server restarts and calls `onListen` again, so the caller can catch up on what was
// announced while it was away.
import postgres from "postgres";

export type ListenHandle = { close: () => Promise<void> };

export async function listenChannel(url: string, channel: string, onPayload: (payload: string) => void, onListen: () => void): Promise<ListenHandle> {
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, idle_timeout: 0, max_lifetime: null });
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
