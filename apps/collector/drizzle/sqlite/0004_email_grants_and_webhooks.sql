CREATE TABLE `email_grants` (
	`account` text NOT NULL,
	`id` text NOT NULL,
	`month` text NOT NULL,
	`emails` integer NOT NULL,
	`note` text,
	`granted_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
);
--> statement-breakpoint
CREATE INDEX `email_grants_account_month` ON `email_grants` (`account`,`month`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`account` text NOT NULL,
	`seq` integer NOT NULL,
	`endpoint` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`next_at` integer NOT NULL,
	`last_at` integer,
	`last_status` integer,
	`last_error` text,
	PRIMARY KEY(`account`, `seq`, `endpoint`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_pending` ON `webhook_deliveries` (`status`,`account`,`endpoint`,`seq`);--> statement-breakpoint
CREATE TABLE `webhook_endpoints` (
	`account` text NOT NULL,
	`id` text NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
);
--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`account` text NOT NULL,
	`seq` integer NOT NULL,
	`key` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`created` integer NOT NULL,
	`data` text NOT NULL,
	PRIMARY KEY(`account`, `seq`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_events_account_key` ON `webhook_events` (`account`,`key`);--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_events_account_id` ON `webhook_events` (`account`,`id`);