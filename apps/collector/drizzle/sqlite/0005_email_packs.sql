ALTER TABLE `email_grants` ADD `pack` text;--> statement-breakpoint
ALTER TABLE `email_grants` ADD `price` integer;--> statement-breakpoint
ALTER TABLE `email_grants` ADD `currency` text;