import Link from "next/link";

export default function NotFound() {
  return (
    <div className="mx-auto mt-24 max-w-md px-4 text-center">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="mt-2 text-sm text-stone-600">There is nothing here, or you may not see it.</p>
      <Link href="/" className="mt-6 inline-block text-sm font-medium text-kiln-700 hover:underline">
        Back to the dashboard
      </Link>
    </div>
  );
}
