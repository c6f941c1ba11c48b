CREATE TYPE "public"."host_arch" AS ENUM('x86_64', 'arm64');--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "arch" "host_arch" DEFAULT 'x86_64' NOT NULL;--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "pi_serial" text;--> statement-breakpoint
ALTER TABLE "image_versions" ADD COLUMN "arch" "host_arch" DEFAULT 'x86_64' NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "hosts_pi_serial_key" ON "hosts" USING btree ("pi_serial");