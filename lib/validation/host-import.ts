// Bulk import of hosts (POST /api/v1/hosts/import): the request, and the CSV an admin pastes or
// uploads turned into the same rows a JSON import sends. Pure and client-safe: the import page
// parses here too, so its preview counts rows exactly as the server will.
import { z } from "zod";
import { interfaceSchema, powerSchema } from "./inventory";
import { nameSchema, tagSchema } from "./common";

/** The most hosts one import takes: 10,000 is the fleet size Kiln is measured at, with room. */
export const HOST_IMPORT_MAX_ROWS = 20_000;

/** One host as a JSON import sends it. Pool and site are named, not ids: files are written by people. */
export const hostImportRowSchema = z
  .object({
    name: nameSchema,
    // Either `macs` (the first is the one it boots from) or full `interfaces`.
    macs: z.array(z.string()).max(16).optional(),
    interfaces: z.array(interfaceSchema).max(16).optional(),
    pool: z.string().trim().max(63).optional(),
    site: z.string().trim().max(63).optional(),
    tags: z.array(tagSchema).max(50).default([]),
    notes: z.string().max(10_000).default(""),
    state: z.enum(["available", "maintenance"]).default("available"),
    power: powerSchema.optional(),
  })
  .strict();
export type HostImportRow = z.input<typeof hostImportRowSchema>;

export const hostImportSchema = z
  .object({
    // CSV text with a header line, or rows as JSON.
    csv: z.string().max(8 * 1024 * 1024).optional(),
    hosts: z.array(z.unknown()).max(HOST_IMPORT_MAX_ROWS, `Import at most ${HOST_IMPORT_MAX_ROWS} hosts at a time.`).optional(),
    // Check everything and answer what would be imported, writing nothing.
    dryRun: z.boolean().default(false),
  })
  .strict()
  .refine((b) => (b.csv === undefined) !== (b.hosts === undefined), { message: "Send either csv (text with a header line) or hosts (a JSON array), not both.", path: ["csv"] });
export type HostImportRequest = z.infer<typeof hostImportSchema>;

/** `row` counts hosts from 1 (0: the file as a whole); `line` is the CSV line it came from. */
export type HostImportRowError = { row: number; line?: number; message: string };

export function describeRowError(e: HostImportRowError): string {
  if (e.row === 0) return e.message;
  return `row ${e.row}${e.line !== undefined ? ` (line ${e.line})` : ""}: ${e.message}`;
}

/** Columns a CSV may have; `power_<param>` columns (power_address, power_port…) are driver parameters. */
export const HOST_IMPORT_COLUMNS = ["name", "macs", "pool", "site", "tags", "notes", "state", "power_driver"] as const;
const COLUMN_ALIASES: Record<string, string> = { mac: "macs", mac_addresses: "macs", driver: "power_driver" };

/**
 * Secrets are refused in CSV: a spreadsheet of BMC passwords gets mailed, committed and left in
 * Downloads. Set them per host (the host page, or PATCH power.secrets), or send JSON, whose
 * `power.secrets` are sealed like a single host's and never returned.
 */
const SECRET_COLUMN = /pass|secret|token|key|credential/i;

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. Returns rows of cells with their line numbers. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        cell += c;
      }
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      cells.push(cell);
      if (cells.some((x) => x.trim() !== "")) rows.push({ line: rowLine, cells });
      cells = [];
      cell = "";
      line++;
      rowLine = line;
    } else cell += c;
  }
  cells.push(cell);
  if (cells.some((x) => x.trim() !== "")) rows.push({ line: rowLine, cells });
  return rows;
}

function splitCell(v: string): string[] {
  return v
    .split(/[\s,;]+/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * CSV text → import rows (as a JSON import would send them) with the line each came from.
 * A header problem is one error for the whole file (row 0).
 */
export function csvToImportRows(text: string): { rows: { line: number; value: Record<string, unknown> }[]; errors: HostImportRowError[] } {
  const table = parseCsv(text);
  if (table.length === 0) return { rows: [], errors: [{ row: 0, message: "The CSV is empty: it needs a header line (name,macs,pool,…) and one line per host." }] };
  const header = table[0]!.cells.map((h) => {
    const k = h.trim().toLowerCase().replace(/[\s-]+/g, "_");
    return COLUMN_ALIASES[k] ?? k;
  });
  const errors: HostImportRowError[] = [];
  for (const h of header) {
    if (h.startsWith("power_") && h !== "power_driver" && SECRET_COLUMN.test(h)) {
      errors.push({ row: 0, message: `Column ${h}: Kiln does not take passwords or other secrets from a CSV file (files like this get mailed and left in Downloads). Import without it, then set the secret on each host's page, or send the import as JSON with power.secrets.` });
    } else if (!h.startsWith("power_") && !(HOST_IMPORT_COLUMNS as readonly string[]).includes(h)) {
      errors.push({ row: 0, message: `Column “${h}” is not one Kiln knows. The columns are ${HOST_IMPORT_COLUMNS.join(", ")} and power_<parameter> (power_address, power_port, power_username…).` });
    }
  }
  if (!header.includes("name")) errors.push({ row: 0, message: "The header line has no name column." });
  if (!header.includes("macs")) errors.push({ row: 0, message: "The header line has no macs column (one or more MAC addresses, separated by spaces or semicolons; the first is the one it boots from)." });
  if (errors.length) return { rows: [], errors };
  const rows = table.slice(1).map(({ line, cells }) => {
    const v: Record<string, unknown> = {};
    const params: Record<string, string> = {};
    header.forEach((h, n) => {
      const cell = (cells[n] ?? "").trim();
      if (cell === "") return;
      if (h === "macs") v.macs = splitCell(cell);
      else if (h === "tags") v.tags = splitCell(cell);
      else if (h === "power_driver") v.powerDriver = cell;
      else if (h.startsWith("power_")) params[h.slice("power_".length)] = cell;
      else v[h] = cell;
    });
    if (v.powerDriver !== undefined || Object.keys(params).length) {
      v.power = { driver: v.powerDriver ?? "manual", params };
      delete v.powerDriver;
    }
    return { line, value: v };
  });
  table.slice(1).forEach(({ line, cells }, n) => {
    if (cells.slice(header.length).some((c) => c.trim())) {
      errors.push({ row: n + 1, line, message: `it has ${cells.length} cells but the header has ${header.length} columns (a comma inside a value needs "quotes").` });
    }
  });
  return { rows, errors };
}
