// What the image components are handed by their pages and read back from the API: the
// lib/ views as they travel as JSON (dates as ISO strings). Pages pass their data through
// `asJson` so the first render and every refetch have the same shape.
import type { getImageVersion, ImageVersionView, ImageView as ImageRowView } from "@/lib/images/images";

export type Jsonified<T> = T extends Date ? string : T extends (infer U)[] ? Jsonified<U>[] : T extends object ? { [K in keyof T]: Jsonified<T[K]> } : T;

export function asJson<T>(value: T): Jsonified<T> {
  return JSON.parse(JSON.stringify(value)) as Jsonified<T>;
}

export type ImageView = Jsonified<ImageRowView>;
export type VersionView = Jsonified<ImageVersionView>;
export type VersionDetailView = Jsonified<Awaited<ReturnType<typeof getImageVersion>>>;
export type ImageVisibility = ImageView["visibility"];
export type VersionState = VersionView["state"];

export type ProjectChoice = { id: string; name: string };
