ALTER TABLE "deployments" ADD COLUMN "disk_boot_allowed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "verified_at" timestamp with time zone;