-- Evidence of invoice lines (docs/evidence.md): keyset pages of a period's units and usage events.
CREATE INDEX `engagements_container_time` ON `engagements` (`container`,`time`,`session`,`advisor`);--> statement-breakpoint
CREATE INDEX `impressions_container_time` ON `impressions` (`container`,`time`,`session`,`campaign`);--> statement-breakpoint
CREATE INDEX `usage_events_account_type_day` ON `usage_events` (`account`,`type`,`day`,`id`);