// Messages between the render pool and its worker threads (plain data, structured-cloned).
import type { Limits } from "../../boot/template/index";

export type RenderJob = { id: number; op: "render" | "compile"; source: string; context?: Record<string, unknown>; limits?: Partial<Limits> };

export type RenderReply =
  | { id: number; ok: true; output: string }
  | { id: number; ok: false; error: { message: string; line: number; column: number; kind: "syntax" | "render" | "limit" | "undefined"; suggestions: string[]; missing: string | null } };
