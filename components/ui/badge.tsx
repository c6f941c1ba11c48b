import type { ReactNode } from "react";

export const TONES = {
  stone: "bg-stone-100 text-stone-700 ring-stone-200",
  green: "bg-green-50 text-green-800 ring-green-200",
  sky: "bg-sky-50 text-sky-800 ring-sky-200",
  indigo: "bg-indigo-50 text-indigo-800 ring-indigo-200",
  amber: "bg-amber-50 text-amber-800 ring-amber-200",
  red: "bg-red-50 text-red-800 ring-red-200",
  kiln: "bg-kiln-50 text-kiln-700 ring-kiln-100",
} as const;

export type Tone = keyof typeof TONES;

export function Badge({ tone = "stone", children, testId }: { tone?: Tone; children: ReactNode; testId?: string }) {
  return (
    <span data-testid={testId} className={`inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${TONES[tone]}`}>
      {children}
    </span>
  );
}
