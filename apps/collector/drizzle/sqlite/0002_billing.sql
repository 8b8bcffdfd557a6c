CREATE TABLE `invoices` (
	`account` text NOT NULL,
	`key` text NOT NULL,
	`number` integer NOT NULL,
	`kind` text NOT NULL,
	`issued_at` integer NOT NULL,
	`currency` text NOT NULL,
	`total` integer NOT NULL,
	`invoice` text NOT NULL,
	`finalized_at` integer NOT NULL,
	PRIMARY KEY(`account`, `key`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invoices_account_number` ON `invoices` (`account`,`number`);--> statement-breakpoint
CREATE TABLE `ledger` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`wallet` text NOT NULL,
	`at` integer NOT NULL,
	`credits` integer NOT NULL,
	`entry` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_account_id` ON `ledger` (`account`,`id`);--> statement-breakpoint
CREATE INDEX `ledger_account_seq` ON `ledger` (`account`,`seq`);--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`account` text NOT NULL,
	`day` text NOT NULL,
	`alerts` integer NOT NULL,
	`emails` integer NOT NULL,
	`contacts` integer,
	PRIMARY KEY(`account`, `day`)
);
--> statement-breakpoint
CREATE TABLE `usage_events` (
	`account` text NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`day` text NOT NULL,
	`time` integer NOT NULL,
	`received_at` integer NOT NULL,
	`quantity` integer NOT NULL,
	`credits` integer NOT NULL,
	`member` text,
	PRIMARY KEY(`account`, `id`)
);
