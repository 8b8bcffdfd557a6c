ALTER TABLE `chat_events` ADD `state` text;--> statement-breakpoint
CREATE INDEX `chat_events_order` ON `chat_events` (`container`,`conversation`,`time`);