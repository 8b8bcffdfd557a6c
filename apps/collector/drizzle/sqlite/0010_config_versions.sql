CREATE TABLE `config_audit` (
	`seq` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`actor` text NOT NULL,
	`at` integer NOT NULL,
	`before` text,
	`after` text
);
--> statement-breakpoint
CREATE TABLE `config_file` (
	`id` integer PRIMARY KEY NOT NULL,
	`body` text NOT NULL,
	`applied_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `config_versions` (
	`seq` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`body` text,
	`effective_at` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `config_versions_object` ON `config_versions` (`kind`,`id`,`version`);