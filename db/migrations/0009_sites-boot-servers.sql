CREATE TABLE "boot_servers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"site_id" uuid NOT NULL,
	"url" text DEFAULT '' NOT NULL,
	"version" text DEFAULT '' NOT NULL,
	"pid" integer,
	"started_at" timestamp with time zone NOT NULL,
	"last_heartbeat_at" timestamp with time zone NOT NULL,
	"stopped_at" timestamp with time zone,
	"interval_seconds" real DEFAULT 0 NOT NULL,
	"interval_requests" integer DEFAULT 0 NOT NULL,
	"interval_errors" integer DEFAULT 0 NOT NULL,
	"requests_per_second" real DEFAULT 0 NOT NULL,
	"memory_ratio" real,
	"p99_ms" real,
	"total_requests" bigint DEFAULT 0 NOT NULL,
	"total_errors" bigint DEFAULT 0 NOT NULL,
	"db_reachable" boolean DEFAULT true NOT NULL,
	CONSTRAINT "boot_servers_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "sites" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"boot_url" text,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sites_name_unique" UNIQUE("name")
);
--> statement-breakpoint
-- The default site, with the fixed id hosts.site_id defaults to (db/schema/sites.ts): every
-- existing host joins it when the column is added below. boot_url null = KILN_BOOT_URL.
INSERT INTO "sites" ("id", "name", "description") VALUES ('00000000-0000-4000-8000-000000000001', 'default', 'Hosts not assigned to another site.');--> statement-breakpoint
ALTER TABLE "hosts" ADD COLUMN "site_id" uuid DEFAULT '00000000-0000-4000-8000-000000000001'::uuid NOT NULL;--> statement-breakpoint
ALTER TABLE "boot_servers" ADD CONSTRAINT "boot_servers_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "boot_servers_site_idx" ON "boot_servers" USING btree ("site_id");--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "hosts_site_idx" ON "hosts" USING btree ("site_id");