"use client";
// One way for forms to call the API: JSON in, the shared error body out, field errors
// kept apart from the form-level message so each is shown where it belongs.
import { useMutation } from "@tanstack/react-query";

export type ApiFailure = { message: string; code: string; fieldErrors: Record<string, string[]>; status: number };

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
  const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string; details?: { fieldErrors?: Record<string, string[]> } } } | null;
  if (!res.ok) {
    throw new ApiError({
      status: res.status,
      code: data?.error?.code ?? "error",
      message: data?.error?.message ?? `The request failed (${res.status}).`,
      fieldErrors: data?.error?.details?.fieldErrors ?? {},
    });
  }
  return data as T;
}

export function useApi<TBody, TResult = unknown>(url: string | ((body: TBody) => string), method = "POST") {
  const mutation = useMutation<TResult, ApiError, TBody>({
    mutationFn: (body) => callApi<TResult>(typeof url === "function" ? url(body) : url, method, body),
  });
  const failure = mutation.error?.failure;
  const fieldErrors = failure?.fieldErrors ?? {};
  // A message that already sits under a field is not repeated at the top of the form.
  const shownInFields = new Set(Object.values(fieldErrors).flat());
  const formError = failure && !shownInFields.has(failure.message) ? failure.message : undefined;
  return { ...mutation, fieldErrors, formError };
}

export function formValues(form: HTMLFormElement): Record<string, string> {
  return Object.fromEntries([...new FormData(form).entries()].map(([k, v]) => [k, String(v)]));
}
