"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "../ui/button";
import { ReleaseLeaseDialog } from "./lease-dialogs";
import type { LeaseView } from "./types";

/** An administrator ends someone's lease; the holder sees it gone from their dashboard. */
export function ForceReleaseButton({ lease }: { lease: LeaseView }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="quietDanger" className="whitespace-nowrap py-1" onClick={() => setOpen(true)} aria-label={`Force release the lease of ${lease.userEmail}`}>
        Force release
      </Button>
      <ReleaseLeaseDialog lease={lease} open={open} onClose={() => setOpen(false)} onDone={() => router.refresh()} />
    </>
  );
}
