CREATE TYPE "public"."image_format" AS ENUM('raw', 'raw-mbr', 'raw-gpt', 'qcow2', 'gzip', 'zstd', 'xz', 'iso', 'unknown');--> statement-breakpoint
CREATE TYPE "public"."image_version_state" AS ENUM('uploading', 'verifying', 'ready', 'failed');--> statement-breakpoint
CREATE TYPE "public"."image_visibility" AS ENUM('private', 'project', 'public');--> statement-breakpoint
CREATE TABLE "image_uploads" (
	"id" text PRIMARY KEY NOT NULL,
	"image_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"user_id" uuid,
	"project_id" uuid,
	"length_bytes" bigint NOT NULL,
	"completed_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_versions" (
	"image_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"state" "image_version_state" DEFAULT 'uploading' NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text,
	"format" "image_format",
	"source_format" "image_format",
	"source_sha256" text,
	"source_size_bytes" bigint,
	"expected_sha256" text,
	"filename" text DEFAULT '' NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	"failure_reason" text,
	"storage_key" text,
	"uploaded_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ready_at" timestamp with time zone,
	CONSTRAINT "image_versions_image_id_version_pk" PRIMARY KEY("image_id","version")
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"owner_user_id" uuid,
	"project_id" uuid,
	"visibility" "image_visibility" DEFAULT 'private' NOT NULL,
	"latest_version" integer,
	"version_counter" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "max_storage_gb" integer;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "image_id" uuid;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "image_version" integer;--> statement-breakpoint
ALTER TABLE "image_uploads" ADD CONSTRAINT "image_uploads_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_uploads" ADD CONSTRAINT "image_uploads_version_fk" FOREIGN KEY ("image_id","version") REFERENCES "public"."image_versions"("image_id","version") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_versions" ADD CONSTRAINT "image_versions_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_versions" ADD CONSTRAINT "image_versions_uploaded_by_user_id_users_id_fk" FOREIGN KEY ("uploaded_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "image_uploads_version_key" ON "image_uploads" USING btree ("image_id","version");--> statement-breakpoint
CREATE INDEX "image_uploads_user_idx" ON "image_uploads" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "image_uploads_open_expiry_idx" ON "image_uploads" USING btree ("expires_at") WHERE "image_uploads"."completed_at" is null;--> statement-breakpoint
CREATE INDEX "image_versions_uploader_idx" ON "image_versions" USING btree ("uploaded_by_user_id");--> statement-breakpoint
CREATE INDEX "images_owner_idx" ON "images" USING btree ("owner_user_id");--> statement-breakpoint
CREATE INDEX "images_project_idx" ON "images" USING btree ("project_id");--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "deployments_image_idx" ON "deployments" USING btree ("image_id","image_version") WHERE "deployments"."image_id" is not null;