CREATE TABLE `credit_books` (
	`account` text PRIMARY KEY NOT NULL,
	`head` integer NOT NULL,
	`due_through` integer,
	`wallets` text NOT NULL,
	`granted` integer NOT NULL,
	`purchased` integer NOT NULL,
	`spent` integer NOT NULL,
	`expired` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `credit_lots` (
	`account` text NOT NULL,
	`lot` text NOT NULL,
	`ord` integer NOT NULL,
	`wallet` text NOT NULL,
	`kind` text NOT NULL,
	`at` integer NOT NULL,
	`expires_at` integer,
	`remaining` integer NOT NULL,
	`expired` integer NOT NULL,
	`open` integer NOT NULL,
	PRIMARY KEY(`account`, `lot`)
);
--> statement-breakpoint
CREATE INDEX `credit_lots_open` ON `credit_lots` (`account`,`open`,`ord`);--> statement-breakpoint
CREATE INDEX `credit_lots_ord` ON `credit_lots` (`account`,`ord`);