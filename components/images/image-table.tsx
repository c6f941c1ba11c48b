import Link from "next/link";
import { Badge } from "../ui/badge";
import { Table } from "../ui/table";
import { formatBytes } from "../ui/format";
import type { ImageView } from "./types";
import { formatLabel } from "./format-label";

export function VisibilityBadge({ image }: { image: Pick<ImageView, "visibility" | "projectName"> }) {
  if (image.visibility === "public") return <Badge tone="green">public</Badge>;
  if (image.visibility === "project") return <Badge tone="indigo">project · {image.projectName ?? "?"}</Badge>;
  return <Badge>private</Badge>;
}

/** The images a user may see, each with its latest ready version. */
export function ImageTable({ images }: { images: ImageView[] }) {
  return (
    <Table columns={[{ label: "Image" }, { label: "Latest ready version" }, { label: "Size", align: "right" }, { label: "Format" }, { label: "Shared with" }, { label: "Owner" }]}>
      {images.map((image) => (
        <tr key={image.id} data-testid="image-row">
          <td className="max-w-sm px-4 py-3">
            <Link href={`/images/${image.id}`} className="font-medium text-stone-900 hover:text-kiln-700 hover:underline">
              {image.name}
            </Link>
            {image.description ? <p className="truncate text-xs text-stone-500">{image.description}</p> : null}
          </td>
          <td className="whitespace-nowrap px-4 py-3 text-stone-700">
            {image.latestVersion !== null ? (
              <>
                <Link href={`/images/${image.id}/versions/${image.latestVersion}`} className="font-medium text-kiln-700 hover:underline">
                  v{image.latestVersion}
                </Link>
                <span className="ml-2 text-xs text-stone-500">of {image.versionCount}</span>
              </>
            ) : (
              <span className="text-stone-400">none yet</span>
            )}
          </td>
          <td className="whitespace-nowrap px-4 py-3 text-right tabular-nums text-stone-700">{image.latestSizeBytes !== null ? formatBytes(image.latestSizeBytes) : "—"}</td>
          <td className="px-4 py-3 text-stone-700">{image.latestFormat ? formatLabel(image.latestFormat) : "—"}</td>
          <td className="px-4 py-3">
            <VisibilityBadge image={image} />
          </td>
          <td className="px-4 py-3 text-stone-600">{image.ownerEmail ?? "—"}</td>
        </tr>
      ))}
    </Table>
  );
}
