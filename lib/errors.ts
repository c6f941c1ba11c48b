// One error type for everything a person can cause. Codes are closed; each maps
// to one HTTP status here and nowhere else.
import { pgInputErrorMessage } from "../db/errors";

export const ERROR_STATUS = {
  bad_request: 400,
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  quota_exceeded: 403,
  not_found: 404,
  conflict: 409,
  insufficient_capacity: 409,
  gone: 410,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: { fieldErrors?: FieldErrors; retryAfterSeconds?: number; [k: string]: unknown };

  constructor(code: ErrorCode, message: string, details?: AppError["details"]) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static field(field: string, message: string): AppError {
    return new AppError("validation", message, { fieldErrors: { [field]: [message] } });
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

export type ErrorBody = { error: { code: ErrorCode; message: string; details?: AppError["details"] } };

/**
 * The error as a person's mistake, or null when it is ours. Besides AppError, the database
 * errors only bad input can cause (a malformed value, a dangling reference, a number or date
 * out of range) are a 400 here, the one place they are mapped, whichever query raised them.
 */
export function asAppError(e: unknown): AppError | null {
  if (isAppError(e)) return e;
  const pgMessage = pgInputErrorMessage(e);
  if (pgMessage) return new AppError("bad_request", pgMessage);
  return null;
}

/** The one error body the API and forms share. Unknown errors never leak their message. */
export function toErrorBody(e: unknown): { status: number; body: ErrorBody } {
  const app = asAppError(e);
  if (app) {
    return { status: app.status, body: { error: { code: app.code, message: app.message, details: app.details } } };
  }
  return {
    status: 500,
    body: { error: { code: "internal", message: "Something went wrong on our side. It has been logged; please try again." } },
  };
}
