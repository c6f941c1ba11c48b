"use client";
// "Cancel reservation…": before the start its time is freed; once started its lease is released
// (the machines are wiped), which the dialog says before anyone confirms.
import { DeleteButton } from "@/components/ui/delete-button";

export function CancelReservation({ id, started, label = "Cancel…" }: { id: string; started: boolean; label?: string }) {
  return (
    <DeleteButton
      label={label}
      title="Cancel this reservation?"
      explanation={
        started
          ? "It has started: its lease is released now, and its machines are wiped and returned to the pool. Copy off anything you need first."
          : "Its hosts are freed for others at once. This cannot be undone; you may reserve again if the time is still free."
      }
      url={`/api/v1/reservations/${id}`}
      cancelLabel="Keep it"
      confirmLabel="Cancel reservation"
      testId={`cancel-reservation-${id}`}
    />
  );
}
