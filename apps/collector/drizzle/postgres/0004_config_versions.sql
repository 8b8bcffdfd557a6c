CREATE TABLE "config_audit" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"actor" text NOT NULL,
	"at" bigint NOT NULL,
	"before" json,
	"after" json
);
--> statement-breakpoint
CREATE TABLE "config_file" (
	"id" integer PRIMARY KEY NOT NULL,
	"body" json NOT NULL,
	"applied_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "config_versions" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"body" json,
	"effective_at" bigint NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "config_versions_object" ON "config_versions" USING btree ("kind","id","version");