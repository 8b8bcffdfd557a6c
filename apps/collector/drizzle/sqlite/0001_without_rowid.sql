-- Custom migration (drizzle-kit cannot express WITHOUT ROWID): the tables written for every event
-- keep their rows in their primary-key index instead of a rowid tree plus that index, so each
-- unique-key insert touches one B-tree, not two. Rebuilt with their data.
CREATE TABLE `events_new` (
	`container` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`session` text NOT NULL,
	`subject` text NOT NULL,
	`time` integer NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`container`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `events_new` SELECT * FROM `events`;
--> statement-breakpoint
DROP TABLE `events`;
--> statement-breakpoint
ALTER TABLE `events_new` RENAME TO `events`;
--> statement-breakpoint
CREATE TABLE `impressions_new` (
	`container` text NOT NULL,
	`session` text NOT NULL,
	`campaign` text NOT NULL,
	`event_id` text NOT NULL,
	`time` integer NOT NULL,
	PRIMARY KEY(`container`, `session`, `campaign`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `impressions_new` SELECT * FROM `impressions`;
--> statement-breakpoint
DROP TABLE `impressions`;
--> statement-breakpoint
ALTER TABLE `impressions_new` RENAME TO `impressions`;
--> statement-breakpoint
CREATE TABLE `engagements_new` (
	`container` text NOT NULL,
	`session` text NOT NULL,
	`advisor` text NOT NULL,
	`event_id` text NOT NULL,
	`time` integer NOT NULL,
	PRIMARY KEY(`container`, `session`, `advisor`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `engagements_new` SELECT * FROM `engagements`;
--> statement-breakpoint
DROP TABLE `engagements`;
--> statement-breakpoint
ALTER TABLE `engagements_new` RENAME TO `engagements`;
--> statement-breakpoint
CREATE TABLE `chat_events_new` (
	`container` text NOT NULL,
	`conversation` text NOT NULL,
	`event_id` text NOT NULL,
	`phase` text NOT NULL,
	`time` integer NOT NULL,
	PRIMARY KEY(`container`, `conversation`, `event_id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `chat_events_new` SELECT * FROM `chat_events`;
--> statement-breakpoint
DROP TABLE `chat_events`;
--> statement-breakpoint
ALTER TABLE `chat_events_new` RENAME TO `chat_events`;
--> statement-breakpoint
CREATE TABLE `rollups_new` (
	`account` text NOT NULL,
	`day` text NOT NULL,
	`container` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`units` integer NOT NULL,
	PRIMARY KEY(`account`, `day`, `container`, `kind`, `subject`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `rollups_new` SELECT * FROM `rollups`;
--> statement-breakpoint
DROP TABLE `rollups`;
--> statement-breakpoint
ALTER TABLE `rollups_new` RENAME TO `rollups`;
