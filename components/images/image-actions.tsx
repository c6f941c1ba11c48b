"use client";
// The owner's buttons on an image page: edit, share, delete. The page is server-rendered,
// so a change refreshes it rather than patching local state.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "../ui/alert";
import { Button } from "../ui/button";
import { DeleteButton } from "../ui/delete-button";
import { EditImageDialog, ShareImageDialog } from "./image-forms";
import type { ImageView, ProjectChoice } from "./types";

export function ImageActions({ image, projects, canPublish, versionCount }: { image: ImageView; projects: ProjectChoice[]; canPublish: boolean; versionCount: number }) {
  const router = useRouter();
  const [open, setOpen] = useState<null | "edit" | "share">(null);
  const [notice, setNotice] = useState<string | null>(null);
  const close = () => setOpen(null);
  const done = (message: string) => {
    setNotice(message);
    router.refresh();
  };
  return (
    <div className="flex flex-col items-end gap-2">
      <div className="flex flex-wrap gap-2">
        <Button variant="secondary" onClick={() => setOpen("edit")}>
          Edit
        </Button>
        <Button variant="secondary" onClick={() => setOpen("share")}>
          Share
        </Button>
        <DeleteButton
          label="Delete"
          title={`Delete ${image.name}?`}
          explanation={`${versionCount === 0 ? "The image has no versions." : versionCount === 1 ? "Its version and its bytes go with it." : `Its ${versionCount} versions and their bytes go with it.`} An image being deployed right now cannot be deleted. This cannot be undone.`}
          url={`/api/v1/images/${image.id}`}
          redirectTo="/images?deleted=1"
        />
      </div>
      {notice ? <Alert tone="success">{notice}</Alert> : null}
      <EditImageDialog image={image} open={open === "edit"} onClose={close} onDone={done} />
      <ShareImageDialog image={image} projects={projects} canPublish={canPublish} open={open === "share"} onClose={close} onDone={done} />
    </div>
  );
}
