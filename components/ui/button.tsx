import type { ButtonHTMLAttributes } from "react";

type Variant = "primary" | "secondary" | "danger" | "quietDanger" | "ghost";

const STYLES: Record<Variant, string> = {
  primary: "bg-kiln-600 text-white hover:bg-kiln-700 focus-visible:outline-kiln-600",
  secondary: "bg-white text-stone-800 ring-1 ring-stone-300 hover:bg-stone-100 focus-visible:outline-stone-500",
  danger: "bg-red-600 text-white hover:bg-red-700 focus-visible:outline-red-600",
  // For the destructive action that opens a confirmation: visible, but not loud.
  quietDanger: "bg-white text-red-700 ring-1 ring-red-200 hover:bg-red-50 focus-visible:outline-red-600",
  ghost: "text-stone-700 hover:bg-stone-100 focus-visible:outline-stone-500",
};

export function Button({
  variant = "primary",
  className = "",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  return (
    <button
      {...props}
      className={`inline-flex items-center justify-center rounded-md px-3.5 py-2 text-sm font-semibold shadow-sm focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed disabled:opacity-60 ${STYLES[variant]} ${className}`}
    />
  );
}
