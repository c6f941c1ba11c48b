// Detected formats as people read them (shared by server and client components).
const FORMAT_LABEL: Record<string, string> = {
  raw: "raw",
  "raw-mbr": "raw disk (MBR)",
  "raw-gpt": "raw disk (GPT)",
  qcow2: "qcow2",
  gzip: "gzip",
  zstd: "zstd",
  xz: "xz",
  iso: "ISO 9660",
  unknown: "unknown",
};

export function formatLabel(format: string): string {
  return FORMAT_LABEL[format] ?? format;
}
