// Turning form strings into the JSON the API expects. Validation stays with the API's
// zod schemas, so messages are the same for forms, scripts and the CLI.

/** Empty → undefined (the API's default applies); anything else as a number. */
export function numberOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return Number(value);
}

/** Empty → null (for quotas: no limit). */
export function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || value.trim() === "") return null;
  return Number(value);
}

/** "gpu, ssd  nvme" → ["gpu", "ssd", "nvme"] */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);
}
