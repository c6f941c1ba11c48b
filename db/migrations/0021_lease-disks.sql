CREATE TYPE "public"."lease_disk_state" AS ENUM('creating', 'ready', 'wiping', 'wiped');--> statement-breakpoint
CREATE TABLE "lease_disks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"lease_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"created_by_user_id" uuid,
	"position" integer NOT NULL,
	"name" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"path" text NOT NULL,
	"export_name" text NOT NULL,
	"export_address" text,
	"export_port" integer,
	"state" "lease_disk_state" DEFAULT 'creating' NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ready_at" timestamp with time zone,
	"wipe_requested_at" timestamp with time zone,
	"wiped_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "lease_disks" ADD CONSTRAINT "lease_disks_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_disks" ADD CONSTRAINT "lease_disks_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_disks" ADD CONSTRAINT "lease_disks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_disks" ADD CONSTRAINT "lease_disks_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "lease_disks_export_name_key" ON "lease_disks" USING btree ("export_name");--> statement-breakpoint
CREATE UNIQUE INDEX "lease_disks_host_position_live_key" ON "lease_disks" USING btree ("host_id","position") WHERE "lease_disks"."state" <> 'wiped';--> statement-breakpoint
CREATE INDEX "lease_disks_lease_idx" ON "lease_disks" USING btree ("lease_id");--> statement-breakpoint
CREATE INDEX "lease_disks_project_live_idx" ON "lease_disks" USING btree ("project_id") WHERE "lease_disks"."state" <> 'wiped';--> statement-breakpoint
CREATE INDEX "lease_disks_unfinished_idx" ON "lease_disks" USING btree ("state") WHERE "lease_disks"."state" <> 'wiped';