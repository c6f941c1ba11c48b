import { z } from "zod";

export const uuidSchema = z.uuid("Not a valid id.");

/** `?page=&per_page=` — the same pagination on every list endpoint. */
export const paginationSchema = z.object({
  page: z.coerce.number().int().min(1, "page starts at 1").default(1),
  per_page: z.coerce.number().int().min(1).max(500, "per_page is at most 500").default(50),
});
export type Pagination = z.infer<typeof paginationSchema>;

export function paginated<T>(data: T[], p: Pagination, total: number) {
  return { data, pagination: { page: p.page, perPage: p.per_page, total } };
}

export const nameSchema = z
  .string()
  .trim()
  .min(1, "Give it a name.")
  .max(63, "Use at most 63 characters.")
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "Use letters, digits, dots, dashes and underscores, starting with a letter or digit.");

export const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(40, "Tags are at most 40 characters.")
  .regex(/^[a-z0-9][a-z0-9._:=-]*$/, "Tags use lower-case letters, digits and . _ : = -");
