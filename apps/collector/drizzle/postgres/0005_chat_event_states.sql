ALTER TABLE "chat_events" ADD COLUMN "state" text;--> statement-breakpoint
CREATE INDEX "chat_events_order" ON "chat_events" USING btree ("account","container","conversation","time");