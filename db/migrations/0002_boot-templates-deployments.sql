CREATE TYPE "public"."deployment_action" AS ENUM('install', 'deploy_image', 'capture_disk', 'wipe_disk');--> statement-breakpoint
CREATE TYPE "public"."deployment_state" AS ENUM('pending', 'running', 'done', 'failed', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."template_format" AS ENUM('ipxe', 'preseed', 'kickstart', 'cloud-init', 'script');--> statement-breakpoint
CREATE TYPE "public"."template_kind" AS ENUM('system', 'unattended');--> statement-breakpoint
CREATE TYPE "public"."template_visibility" AS ENUM('private', 'project', 'public');--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"host_id" uuid NOT NULL,
	"lease_id" uuid,
	"user_id" uuid,
	"action" "deployment_action" NOT NULL,
	"state" "deployment_state" DEFAULT 'pending' NOT NULL,
	"system_template_id" uuid,
	"system_template_version" integer,
	"unattended_template_id" uuid,
	"unattended_template_version" integer,
	"vars" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"token_hash" text NOT NULL,
	"token_expires_at" timestamp with time zone NOT NULL,
	"boot_count" integer DEFAULT 0 NOT NULL,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "host_boot_settings" (
	"host_id" uuid PRIMARY KEY NOT NULL,
	"lease_id" uuid NOT NULL,
	"system_template_id" uuid,
	"unattended_template_id" uuid,
	"vars" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"preferred_mac" text,
	"updated_by_user_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "host_vars" (
	"host_id" uuid PRIMARY KEY NOT NULL,
	"vars" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "template_versions" (
	"template_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"source" text NOT NULL,
	"variables" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"message" text DEFAULT '' NOT NULL,
	"created_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_versions_template_id_version_pk" PRIMARY KEY("template_id","version")
);
--> statement-breakpoint
CREATE TABLE "templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"builtin_key" text,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"kind" "template_kind" NOT NULL,
	"format" "template_format" NOT NULL,
	"owner_user_id" uuid,
	"project_id" uuid,
	"visibility" "template_visibility" DEFAULT 'private' NOT NULL,
	"latest_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_system_template_id_templates_id_fk" FOREIGN KEY ("system_template_id") REFERENCES "public"."templates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_unattended_template_id_templates_id_fk" FOREIGN KEY ("unattended_template_id") REFERENCES "public"."templates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_boot_settings" ADD CONSTRAINT "host_boot_settings_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_boot_settings" ADD CONSTRAINT "host_boot_settings_lease_id_leases_id_fk" FOREIGN KEY ("lease_id") REFERENCES "public"."leases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_boot_settings" ADD CONSTRAINT "host_boot_settings_system_template_id_templates_id_fk" FOREIGN KEY ("system_template_id") REFERENCES "public"."templates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_boot_settings" ADD CONSTRAINT "host_boot_settings_unattended_template_id_templates_id_fk" FOREIGN KEY ("unattended_template_id") REFERENCES "public"."templates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_boot_settings" ADD CONSTRAINT "host_boot_settings_updated_by_user_id_users_id_fk" FOREIGN KEY ("updated_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "host_vars" ADD CONSTRAINT "host_vars_host_id_hosts_id_fk" FOREIGN KEY ("host_id") REFERENCES "public"."hosts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions_template_id_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."templates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_versions" ADD CONSTRAINT "template_versions_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "templates" ADD CONSTRAINT "templates_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployments_host_idx" ON "deployments" USING btree ("host_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_one_active_key" ON "deployments" USING btree ("host_id") WHERE "deployments"."state" in ('pending', 'running');--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_token_key" ON "deployments" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "templates_builtin_key" ON "templates" USING btree ("builtin_key") WHERE "templates"."builtin_key" is not null;--> statement-breakpoint
CREATE INDEX "templates_owner_idx" ON "templates" USING btree ("owner_user_id");