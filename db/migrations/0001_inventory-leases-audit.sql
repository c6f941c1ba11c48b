CREATE TYPE "public"."host_state" AS ENUM('new', 'available', 'leased', 'releasing', 'maintenance', 'broken');--> statement-breakpoint
CREATE TYPE "public"."lease_state" AS ENUM('active', 'released', 'expired');--> statement-breakpoint
CREATE TYPE "public"."project_role" AS ENUM('member', 'leader');--> statement-breakpoint
CREATE TABLE "host_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"host_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_user_id" uuid,
	"kind" text NOT NULL,
	"from_state" "host_state",
	"to_state" "host_state",
	"message" text DEFAULT '' NOT NULL,
	"lease_id" uuid
);
--> statement-breakpoint
CREATE TABLE "host_interfaces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"host_id" uuid NOT NULL,
	"mac" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"is_pxe" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hosts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"state" "host_state" DEFAULT 'new' NOT NULL,
	"pool_id" uuid,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"cpu_cores" integer,
	"memory_mb" integer,
	"disks" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"facts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"power_driver" text DEFAULT 'manual' NOT NULL,
	"power_params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"power_secrets" text,
	"notes" text DEFAULT '' NOT NULL,
	"hostname_hint" text,
	"source_ip" text,
	"first_seen_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lease_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"lease_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_user_id" uuid,
	"kind" text NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lease_hosts" (
	"lease_id" uuid NOT NULL,
	"host_id" uuid NOT NULL,
	"added_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone,
	CONSTRAINT "lease_hosts_lease_id_host_id_pk" PRIMARY KEY("lease_id","host_id")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"created_by_user_id" uuid,
	"pool_id" uuid,
	"state" "lease_state" DEFAULT 'active' NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"reminders_sent" integer[] DEFAULT '{}'::int[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "leases_ends_after_start" CHECK ("leases"."ends_at" > "leases"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "pools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"default_lease_hours" integer DEFAULT 24 NOT NULL,
	"max_lease_hours" integer DEFAULT 168 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pools_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "project_members" (
	"project_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"role" "project_role" DEFAULT 'member' NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_members_project_id_user_id_pk" PRIMARY KEY("project_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"max_hosts" integer,
	"max_lease_hours" integer,
	"max_node_hours_per_month" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_user_id" uuid,
	"actor_email" text,
	"actor_ip" text,
	"action" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text,
	"summary" text DEFAULT '' NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "host_events" ADD CONSTRAINT "host_events_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_events" ADD CONSTRAINT "host_events_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_interfaces" ADD CONSTRAINT "host_interfaces_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hosts" ADD CONSTRAINT "hosts_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_events" ADD CONSTRAINT "lease_events_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_events" ADD CONSTRAINT "lease_events_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_hosts" ADD CONSTRAINT "lease_hosts_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lease_hosts" ADD CONSTRAINT "lease_hosts_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "public"."pools"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_members" ADD CONSTRAINT "project_members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "host_events_host_at_idx" ON "host_events" USING btree ("host_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "host_interfaces_mac_key" ON "host_interfaces" USING btree ("mac");--> statement-breakpoint
CREATE INDEX "host_interfaces_host_idx" ON "host_interfaces" USING btree ("host_id");--> statement-breakpoint
CREATE UNIQUE INDEX "host_interfaces_one_pxe_key" ON "host_interfaces" USING btree ("host_id") WHERE "host_interfaces"."is_pxe";--> statement-breakpoint
CREATE UNIQUE INDEX "hosts_name_key" ON "hosts" USING btree ("name");--> statement-breakpoint
CREATE INDEX "hosts_state_idx" ON "hosts" USING btree ("state");--> statement-breakpoint
CREATE INDEX "hosts_pool_state_idx" ON "hosts" USING btree ("pool_id","state");--> statement-breakpoint
CREATE INDEX "hosts_tags_idx" ON "hosts" USING gin ("tags");--> statement-breakpoint
CREATE INDEX "lease_events_lease_at_idx" ON "lease_events" USING btree ("lease_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "lease_hosts_one_active_key" ON "lease_hosts" USING btree ("host_id") WHERE "lease_hosts"."released_at" is null;--> statement-breakpoint
CREATE INDEX "leases_user_state_idx" ON "leases" USING btree ("user_id","state");--> statement-breakpoint
CREATE INDEX "leases_project_state_idx" ON "leases" USING btree ("project_id","state");--> statement-breakpoint
CREATE INDEX "leases_active_ends_idx" ON "leases" USING btree ("ends_at") WHERE "leases"."state" = 'active';--> statement-breakpoint
CREATE INDEX "project_members_user_idx" ON "project_members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_target_idx" ON "audit_log" USING btree ("target_type","target_id");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor_user_id");