CREATE TABLE `chat_events` (
	`container` text NOT NULL,
	`conversation` text NOT NULL,
	`event_id` text NOT NULL,
	`phase` text NOT NULL,
	`time` integer NOT NULL,
	PRIMARY KEY(`container`, `conversation`, `event_id`)
);
--> statement-breakpoint
CREATE TABLE `config_changes` (
	`kind` text NOT NULL,
	`id` text NOT NULL,
	`seq` integer NOT NULL,
	`body` text NOT NULL,
	`changed_at` integer NOT NULL,
	PRIMARY KEY(`kind`, `id`)
);
--> statement-breakpoint
CREATE TABLE `conversations` (
	`container` text NOT NULL,
	`conversation` text NOT NULL,
	`account` text NOT NULL,
	`bot` text NOT NULL,
	`session` text NOT NULL,
	`started_at` integer NOT NULL,
	`day` text NOT NULL,
	`last_event_at` integer NOT NULL,
	`ended_at` integer,
	`status` text NOT NULL,
	`bot_ms` integer NOT NULL,
	`sessions` integer NOT NULL,
	PRIMARY KEY(`container`, `conversation`)
);
--> statement-breakpoint
CREATE INDEX `conversations_account_started` ON `conversations` (`account`,`started_at`);--> statement-breakpoint
CREATE INDEX `conversations_status_last` ON `conversations` (`status`,`last_event_at`);--> statement-breakpoint
CREATE TABLE `engagements` (
	`container` text NOT NULL,
	`session` text NOT NULL,
	`advisor` text NOT NULL,
	`event_id` text NOT NULL,
	`time` integer NOT NULL,
	PRIMARY KEY(`container`, `session`, `advisor`)
);
--> statement-breakpoint
CREATE TABLE `events` (
	`container` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`session` text NOT NULL,
	`subject` text NOT NULL,
	`time` integer NOT NULL,
	`received_at` integer NOT NULL,
	PRIMARY KEY(`container`, `id`)
);
--> statement-breakpoint
CREATE TABLE `impressions` (
	`container` text NOT NULL,
	`session` text NOT NULL,
	`campaign` text NOT NULL,
	`event_id` text NOT NULL,
	`time` integer NOT NULL,
	PRIMARY KEY(`container`, `session`, `campaign`)
);
--> statement-breakpoint
CREATE TABLE `rejections` (
	`minute` integer NOT NULL,
	`container` text NOT NULL,
	`account` text,
	`reason` text NOT NULL,
	`origin` text NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`minute`, `container`, `reason`, `origin`)
);
--> statement-breakpoint
CREATE INDEX `rejections_account_minute` ON `rejections` (`account`,`minute`);--> statement-breakpoint
CREATE TABLE `rollups` (
	`account` text NOT NULL,
	`day` text NOT NULL,
	`container` text NOT NULL,
	`kind` text NOT NULL,
	`subject` text NOT NULL,
	`units` integer NOT NULL,
	PRIMARY KEY(`account`, `day`, `container`, `kind`, `subject`)
);
