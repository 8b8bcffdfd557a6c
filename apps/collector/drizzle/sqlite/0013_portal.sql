CREATE TABLE `portal_sessions` (
	`account` text NOT NULL,
	`id` text NOT NULL,
	`session` text,
	`member` text,
	`return_url` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`opened_at` integer,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE UNIQUE INDEX `portal_sessions_account_session` ON `portal_sessions` (`account`,`session`);--> statement-breakpoint
CREATE INDEX `portal_sessions_account_expires` ON `portal_sessions` (`account`,`expires_at`);--> statement-breakpoint
CREATE TABLE `account_facts` (
	`account` text NOT NULL,
	`kind` text NOT NULL,
	`id` text NOT NULL,
	`at` integer NOT NULL,
	`body` text NOT NULL,
	PRIMARY KEY(`account`, `kind`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `account_facts_account_kind_at` ON `account_facts` (`account`,`kind`,`at`);
