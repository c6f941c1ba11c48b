// Shown across the admin console while machines are told a boot URL they cannot reach.
import Link from "next/link";

export function BootUrlBanner({ warning, showSnippetsLink = true }: { warning: { text: string; fix: string }; showSnippetsLink?: boolean }) {
  return (
    <div role="alert" data-testid="boot-url-warning" className="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
      <p className="font-semibold">{warning.text}</p>
      <p className="mt-1">
        {warning.fix}
        {showSnippetsLink ? (
          <>
            {" "}
            <Link href="/admin/network-boot" className="underline">
              Network boot
            </Link>{" "}
            has the DHCP snippets once it is set.
          </>
        ) : null}
      </p>
    </div>
  );
}
