import type { ReactNode } from "react";

export function Card({ title, description, children }: { title?: string; description?: ReactNode; children: ReactNode }) {
  return (
    <section className="rounded-lg border border-stone-200 bg-white p-6 shadow-sm">
      {title ? <h2 className="text-base font-semibold text-stone-900">{title}</h2> : null}
      {description ? <p className="mt-1 text-sm text-stone-600">{description}</p> : null}
      <div className={title || description ? "mt-4" : ""}>{children}</div>
    </section>
  );
}

/** The centred single-card layout of the sign-in, register, verify and reset pages. */
export function AuthCard({ title, children, footer }: { title: string; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="mx-auto mt-16 w-full max-w-md px-4">
      <div className="rounded-xl border border-stone-200 bg-white p-8 shadow-sm">
        <h1 className="text-xl font-semibold text-stone-900">{title}</h1>
        <div className="mt-6">{children}</div>
      </div>
      {footer ? <div className="mt-4 text-center text-sm text-stone-600">{footer}</div> : null}
    </div>
  );
}
