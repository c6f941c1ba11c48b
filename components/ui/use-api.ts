"use client";
// One way for forms to call the API: JSON in, the shared error body out, field errors
// kept apart from the form-level message so each is shown where it belongs.
import { useMutation } from "@tanstack/react-query";

export type ApiFailure = { message: string; code: string; fieldErrors: Record<string, string[]>; status: number; details?: Record<string, unknown> };

export class ApiError extends Error {
  constructor(readonly failure: ApiFailure) {
    super(failure.message);
  }
}

export async function callApi<T = unknown>(url: string, method: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError({ message: "Kiln cannot be reached. Check your connection and try again.", code: "network", fieldErrors: {}, status: 0 });
  }
  const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string; details?: { fieldErrors?: Record<string, string[]> } & Record<string, unknown> } } | null;
  if (!res.ok) {
    throw new ApiError({
      status: res.status,
      code: data?.error?.code ?? "error",
      message: data?.error?.message ?? `The request failed (${res.status}).`,
      fieldErrors: data?.error?.details?.fieldErrors ?? {},
      details: data?.error?.details,
    });
  }
  return data as T;
}

/** Errors of one field, including those of its parts (`interfaces` gathers `interfaces.0.mac`). */
export function errorsOf(fieldErrors: Record<string, string[]>, field: string): string[] | undefined {
  const found = Object.entries(fieldErrors)
    .filter(([k]) => k === field || k.startsWith(`${field}.`))
    .flatMap(([, v]) => v);
  return found.length ? [...new Set(found)] : undefined;
}

/**
 * `fields` names the fields the form shows errors under; a message about any other field
 * (say `userId` on a form that asks for an email) then goes to the top of the form
 * instead of being lost.
 */
export function useApi<TBody, TResult = unknown>(url: string | ((body: TBody) => string), method = "POST", options: { fields?: string[] } = {}) {
  const mutation = useMutation<TResult, ApiError, TBody>({
    mutationFn: (body) => callApi<TResult>(typeof url === "function" ? url(body) : url, method, body),
  });
  const failure = mutation.error?.failure;
  const fieldErrors = failure?.fieldErrors ?? {};
  const shown = options.fields ? options.fields.flatMap((f) => errorsOf(fieldErrors, f) ?? []) : Object.values(fieldErrors).flat();
  // A message that already sits under a field is not repeated at the top of the form.
  const formError = failure && !new Set(shown).has(failure.message) ? failure.message : undefined;
  return { ...mutation, fieldErrors, formError, errorsOf: (field: string) => errorsOf(fieldErrors, field) };
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)]));
}
