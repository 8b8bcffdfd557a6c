-- Refusals per UTC day with their first and last minute (docs/security.md); the minute rows are
-- summed into their day (they named no subject). Conversations over the per-address cap are marked.
ALTER TABLE "rejections" RENAME TO "rejections_by_minute";--> statement-breakpoint
ALTER TABLE "rejections_by_minute" RENAME CONSTRAINT "rejections_account_minute_container_reason_origin_pk" TO "rejections_by_minute_pk";--> statement-breakpoint
CREATE TABLE "rejections" (
	"account" text NOT NULL,
	"day" bigint NOT NULL,
	"container" text NOT NULL,
	"reason" text NOT NULL,
	"origin" text NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"count" bigint NOT NULL,
	"first_seen" bigint NOT NULL,
	"last_seen" bigint NOT NULL,
	CONSTRAINT "rejections_account_day_container_reason_origin_subject_pk" PRIMARY KEY("account","day","container","reason","origin","subject")
);
--> statement-breakpoint
INSERT INTO "rejections" ("account", "day", "container", "reason", "origin", "subject", "count", "first_seen", "last_seen")
  SELECT "account", ("minute" / 86400000) * 86400000, "container", "reason", "origin", '', sum("count"), min("minute"), max("minute")
  FROM "rejections_by_minute" GROUP BY "account", ("minute" / 86400000), "container", "reason", "origin";--> statement-breakpoint
DROP TABLE "rejections_by_minute";--> statement-breakpoint
CREATE INDEX "rejections_day" ON "rejections" USING btree ("day");--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "suspicious" boolean DEFAULT false NOT NULL;
