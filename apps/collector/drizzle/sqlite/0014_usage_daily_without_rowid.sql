-- Custom migration (drizzle-kit cannot express WITHOUT ROWID), as 0001: the daily server meters
-- keep their rows in their (account, day) key, so the billing run reads an account's days in one
-- range of one B-tree instead of an index plus a row lookup per day, and each usage upsert
-- touches one B-tree, not two. Rebuilt with its data.
CREATE TABLE `usage_daily_new` (
	`account` text NOT NULL,
	`day` text NOT NULL,
	`alerts` integer NOT NULL,
	`emails` integer NOT NULL,
	`contacts` integer,
	PRIMARY KEY(`account`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_daily_new` (`account`, `day`, `alerts`, `emails`, `contacts`) SELECT `account`, `day`, `alerts`, `emails`, `contacts` FROM `usage_daily`;
--> statement-breakpoint
DROP TABLE `usage_daily`;
--> statement-breakpoint
ALTER TABLE `usage_daily_new` RENAME TO `usage_daily`;
