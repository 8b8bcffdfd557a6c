PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_rejections` (
	`day` integer NOT NULL,
	`container` text NOT NULL,
	`account` text,
	`reason` text NOT NULL,
	`origin` text NOT NULL,
	`subject` text DEFAULT '' NOT NULL,
	`count` integer NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	PRIMARY KEY(`day`, `container`, `reason`, `origin`, `subject`)
);
--> statement-breakpoint
-- Refusals move from minute rows to day rows with their first and last minute (hand-edited: the
-- old rows are summed into their UTC day; they named no subject).
INSERT INTO `__new_rejections`("day", "container", "account", "reason", "origin", "subject", "count", "first_seen", "last_seen")
  SELECT ("minute" / 86400000) * 86400000, "container", max("account"), "reason", "origin", '', sum("count"), min("minute"), max("minute")
  FROM `rejections` GROUP BY ("minute" / 86400000), "container", "reason", "origin";--> statement-breakpoint
DROP TABLE `rejections`;--> statement-breakpoint
ALTER TABLE `__new_rejections` RENAME TO `rejections`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `rejections_account_day` ON `rejections` (`account`,`day`);