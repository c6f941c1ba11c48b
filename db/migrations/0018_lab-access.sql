CREATE TYPE "public"."directory_entry_desired" AS ENUM('present', 'disabled', 'absent');--> statement-breakpoint
CREATE TYPE "public"."directory_entry_origin" AS ENUM('created', 'linked');--> statement-breakpoint
CREATE TYPE "public"."vpn_key_origin" AS ENUM('browser', 'server', 'pasted');--> statement-breakpoint
CREATE TABLE "directory_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid,
	"uid" text NOT NULL,
	"dn" text NOT NULL,
	"uid_number" integer NOT NULL,
	"gid_number" integer NOT NULL,
	"origin" "directory_entry_origin" DEFAULT 'created' NOT NULL,
	"desired" "directory_entry_desired" DEFAULT 'present' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"synced_version" integer DEFAULT 0 NOT NULL,
	"synced_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vpn_devices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"public_key" text NOT NULL,
	"address" text NOT NULL,
	"key_origin" "vpn_key_origin" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_by" uuid
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "directory_password_hash" text;--> statement-breakpoint
ALTER TABLE "directory_entries" ADD CONSTRAINT "directory_entries_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vpn_devices" ADD CONSTRAINT "vpn_devices_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vpn_devices" ADD CONSTRAINT "vpn_devices_revoked_by_users_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "directory_entries_user_key" ON "directory_entries" USING btree ("user_id") WHERE "directory_entries"."user_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "directory_entries_uid_key" ON "directory_entries" USING btree ("uid");--> statement-breakpoint
CREATE UNIQUE INDEX "directory_entries_dn_key" ON "directory_entries" USING btree ("dn");--> statement-breakpoint
CREATE UNIQUE INDEX "directory_entries_uid_number_key" ON "directory_entries" USING btree ("uid_number");--> statement-breakpoint
CREATE INDEX "directory_entries_pending_idx" ON "directory_entries" USING btree ("updated_at") WHERE "directory_entries"."synced_version" < "directory_entries"."version";--> statement-breakpoint
CREATE UNIQUE INDEX "vpn_devices_address_key" ON "vpn_devices" USING btree ("address") WHERE "vpn_devices"."revoked_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "vpn_devices_public_key_key" ON "vpn_devices" USING btree ("public_key") WHERE "vpn_devices"."revoked_at" is null;--> statement-breakpoint
CREATE INDEX "vpn_devices_user_idx" ON "vpn_devices" USING btree ("user_id","created_at");