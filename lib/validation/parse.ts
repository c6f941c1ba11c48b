import type { z } from "zod";
import { AppError } from "../errors";
import { fieldErrorsOf } from "./accounts";
import { humanIssueMessage } from "./error-map";

/** Validates input or throws a 400 AppError whose details say which field is wrong and why. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const root = result.error.issues.find((i) => i.path.length === 0 && i.code === "invalid_type");
  if (root && "expected" in root && root.expected === "object") throw new AppError("validation", "The request body must be a JSON object.");
  const fieldErrors = fieldErrorsOf(result.error);
  const issue = result.error.issues[0];
  const first = issue ? humanIssueMessage(issue) : "The request is not valid.";
  throw new AppError("validation", first, { fieldErrors });
}
