CREATE TABLE "email_grants" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"month" text NOT NULL,
	"emails" bigint NOT NULL,
	"note" text,
	"granted_at" bigint NOT NULL,
	"pack" text,
	"price" bigint,
	"currency" text,
	CONSTRAINT "email_grants_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"account" text NOT NULL,
	"seq" bigint NOT NULL,
	"endpoint" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"next_at" bigint NOT NULL,
	"last_at" bigint,
	"last_status" integer,
	"last_error" text,
	CONSTRAINT "webhook_deliveries_account_seq_endpoint_pk" PRIMARY KEY("account","seq","endpoint")
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "webhook_endpoints_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"account" text NOT NULL,
	"seq" bigint NOT NULL,
	"key" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"created" bigint NOT NULL,
	"data" json NOT NULL,
	CONSTRAINT "webhook_events_account_seq_pk" PRIMARY KEY("account","seq")
);
--> statement-breakpoint
DROP INDEX "conversations_account_started";--> statement-breakpoint
CREATE INDEX "email_grants_account_month" ON "email_grants" USING btree ("account","month");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending" ON "webhook_deliveries" USING btree ("status","account","endpoint","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_account_key" ON "webhook_events" USING btree ("account","key");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_events_account_id" ON "webhook_events" USING btree ("account","id");--> statement-breakpoint
CREATE INDEX "engagements_account_container_time" ON "engagements" USING btree ("account","container","time","session","advisor");--> statement-breakpoint
CREATE INDEX "impressions_account_container_time" ON "impressions" USING btree ("account","container","time","session","campaign");--> statement-breakpoint
CREATE INDEX "usage_events_account_type_day" ON "usage_events" USING btree ("account","type","day","id");--> statement-breakpoint
CREATE INDEX "conversations_account_started" ON "conversations" USING btree ("account","started_at","container","conversation");