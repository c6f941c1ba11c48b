// Formatting shared by server and client components. Times are shown in UTC so a page
// renders the same on the server and in the browser (no hydration mismatch), and
// everyone in the lab reads the same clock.

export function formatDateTime(iso: string | Date | null | undefined): string {
  if (!iso) return "—";
  const d = typeof iso === "string" ? new Date(iso) : iso;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function formatDate(iso: string | Date | null | undefined): string {
  if (!iso) return "—";
  return (typeof iso === "string" ? new Date(iso) : iso).toISOString().slice(0, 10);
}

/** "3 d 4 h", "2 h 13 min", "12 min 5 s" — two units, coarse enough to read at a glance. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

export function formatMemory(mb: number | null | undefined): string {
  if (mb === null || mb === undefined) return "—";
  if (mb >= 1024) return `${Math.round((mb / 1024) * 10) / 10} GB`;
  return `${mb} MB`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Math.round(v * 10) / 10} ${units[i]}`;
}

export function formatHours(h: number | null | undefined): string {
  if (h === null || h === undefined) return "unlimited";
  if (h % 24 === 0 && h >= 48) return `${h / 24} days`;
  return `${h} h`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}
