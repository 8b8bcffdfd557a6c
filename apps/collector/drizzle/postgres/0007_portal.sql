CREATE TABLE "portal_sessions" (
	"account" text NOT NULL,
	"id" text NOT NULL,
	"session" text,
	"member" text,
	"return_url" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"opened_at" bigint,
	CONSTRAINT "portal_sessions_account_id_pk" PRIMARY KEY("account","id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "portal_sessions_account_session" ON "portal_sessions" USING btree ("account","session");--> statement-breakpoint
CREATE INDEX "portal_sessions_account_expires" ON "portal_sessions" USING btree ("account","expires_at");--> statement-breakpoint
CREATE TABLE "account_facts" (
	"account" text NOT NULL,
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"at" bigint NOT NULL,
	"body" json NOT NULL,
	CONSTRAINT "account_facts_account_kind_id_pk" PRIMARY KEY("account","kind","id")
);
--> statement-breakpoint
CREATE INDEX "account_facts_account_kind_at" ON "account_facts" USING btree ("account","kind","at");
