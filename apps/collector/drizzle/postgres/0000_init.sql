CREATE TABLE "chat_events" (
	"account" text NOT NULL,
	"container" text NOT NULL,
	"conversation" text NOT NULL,
	"event_id" text NOT NULL,
	"phase" text NOT NULL,
	"time" bigint NOT NULL,
	"received_at" bigint NOT NULL,
	CONSTRAINT "chat_events_account_container_conversation_event_id_pk" PRIMARY KEY("account","container","conversation","event_id")
);
--> statement-breakpoint
CREATE TABLE "config_changes" (
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"seq" bigint NOT NULL,
	"body" json NOT NULL,
	"changed_at" bigint NOT NULL,
	CONSTRAINT "config_changes_kind_id_pk" PRIMARY KEY("kind","id")
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"account" text NOT NULL,
	"container" text NOT NULL,
	"conversation" text NOT NULL,
	"bot" text NOT NULL,
	"session" text NOT NULL,
	"started_at" bigint NOT NULL,
	"day" text NOT NULL,
	"last_event_at" bigint NOT NULL,
	"ended_at" bigint,
	"status" text NOT NULL,
	"bot_ms" bigint NOT NULL,
	"sessions" integer NOT NULL,
	"latest_at" bigint NOT NULL,
	"closed" boolean NOT NULL,
	"active" boolean NOT NULL,
	"first_received_at" bigint NOT NULL,
	"last_received_at" bigint NOT NULL,
	"events" integer NOT NULL,
	CONSTRAINT "conversations_account_container_conversation_pk" PRIMARY KEY("account","container","conversation")
);
--> statement-breakpoint
CREATE TABLE "engagements" (
	"account" text NOT NULL,
	"container" text NOT NULL,
	"session" text NOT NULL,
	"advisor" text NOT NULL,
	"event_id" text NOT NULL,
	"time" bigint NOT NULL,
	CONSTRAINT "engagements_account_container_session_advisor_pk" PRIMARY KEY("account","container","session","advisor")
);
--> statement-breakpoint
CREATE TABLE "impressions" (
	"account" text NOT NULL,
	"container" text NOT NULL,
	"session" text NOT NULL,
	"campaign" text NOT NULL,
	"event_id" text NOT NULL,
	"time" bigint NOT NULL,
	CONSTRAINT "impressions_account_container_session_campaign_pk" PRIMARY KEY("account","container","session","campaign")
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"account" text NOT NULL,
	"key" text NOT NULL,
	"number" integer NOT NULL,
	"kind" text NOT NULL,
	"issued_at" bigint NOT NULL,
	"currency" text NOT NULL,
	"total" bigint NOT NULL,
	"invoice" json NOT NULL,
	"finalized_at" bigint NOT NULL,
	CONSTRAINT "invoices_account_key_pk" PRIMARY KEY("account","key")
);
--> statement-breakpoint
CREATE TABLE "ledger" (
	"account" text NOT NULL,
	"seq" bigserial NOT NULL,
	"source" text NOT NULL,
	"ref" text NOT NULL,
	"leg" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"wallet" text NOT NULL,
	"at" bigint NOT NULL,
	"credits" bigint NOT NULL,
	"entry" json NOT NULL,
	CONSTRAINT "ledger_account_seq_pk" PRIMARY KEY("account","seq")
);
--> statement-breakpoint
CREATE TABLE "rejections" (
	"account" text NOT NULL,
	"minute" bigint NOT NULL,
	"container" text NOT NULL,
	"reason" text NOT NULL,
	"origin" text NOT NULL,
	"count" bigint NOT NULL,
	CONSTRAINT "rejections_account_minute_container_reason_origin_pk" PRIMARY KEY("account","minute","container","reason","origin")
);
--> statement-breakpoint
CREATE TABLE "rollups" (
	"account" text NOT NULL,
	"day" text NOT NULL,
	"container" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text NOT NULL,
	"units" bigint NOT NULL,
	CONSTRAINT "rollups_account_day_container_kind_subject_pk" PRIMARY KEY("account","day","container","kind","subject")
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"account" text NOT NULL,
	"day" text NOT NULL,
	"alerts" bigint NOT NULL,
	"emails" bigint NOT NULL,
	"contacts" bigint,
	CONSTRAINT "usage_daily_account_day_pk" PRIMARY KEY("account","day")
);
--> statement-breakpoint
CREATE TABLE "usage_events" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"type" text NOT NULL,
	"day" text NOT NULL,
	"time" bigint NOT NULL,
	"received_at" bigint NOT NULL,
	"quantity" bigint NOT NULL,
	"credits" bigint NOT NULL,
	"member" text,
	CONSTRAINT "usage_events_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE INDEX "conversations_account_started" ON "conversations" USING btree ("account","started_at");--> statement-breakpoint
CREATE INDEX "conversations_status_last" ON "conversations" USING btree ("status","last_event_at");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_account_number" ON "invoices" USING btree ("account","number");--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_account_key" ON "ledger" USING btree ("account","source","ref","leg");