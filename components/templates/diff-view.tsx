/** A unified diff with added and removed lines coloured. */
export function DiffView({ diff }: { diff: string }) {
  const lines = diff.split("\n").slice(2); // drop the ---/+++ file header
  if (!lines.some((l) => l.startsWith("+") || l.startsWith("-"))) return <p className="text-sm text-stone-500">No differences.</p>;
  return (
    <pre className="max-h-96 overflow-auto rounded-md border border-stone-200 bg-white p-3 font-mono text-xs leading-5" data-testid="diff">
      {lines.map((l, i) => (
        <div key={i} className={l.startsWith("+") ? "bg-green-50 text-green-800" : l.startsWith("-") ? "bg-red-50 text-red-800" : l.startsWith("@@") ? "text-sky-700" : "text-stone-600"}>
          {l || " "}
        </div>
      ))}
    </pre>
  );
}
