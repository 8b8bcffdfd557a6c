CREATE TABLE "credit_books" (
	"account" text PRIMARY KEY NOT NULL,
	"head" bigint NOT NULL,
	"due_through" bigint,
	"wallets" json NOT NULL,
	"granted" bigint NOT NULL,
	"purchased" bigint NOT NULL,
	"spent" bigint NOT NULL,
	"expired" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "credit_lots" (
	"account" text NOT NULL,
	"lot" text NOT NULL,
	"ord" integer NOT NULL,
	"wallet" text NOT NULL,
	"kind" text NOT NULL,
	"at" bigint NOT NULL,
	"expires_at" bigint,
	"remaining" bigint NOT NULL,
	"expired" boolean NOT NULL,
	"open" boolean NOT NULL,
	CONSTRAINT "credit_lots_account_lot_pk" PRIMARY KEY("account","lot")
);
--> statement-breakpoint
CREATE INDEX "credit_lots_open" ON "credit_lots" USING btree ("account","open","ord");--> statement-breakpoint
CREATE INDEX "credit_lots_ord" ON "credit_lots" USING btree ("account","ord");