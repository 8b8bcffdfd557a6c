-- Impressions and engagements are keyed by their billable unit alone: the per-event table goes.
DROP TABLE `events`;--> statement-breakpoint
-- The credit log keyed by columns (source, ref, leg) instead of a concatenated id.
DROP INDEX `ledger_account_id`;--> statement-breakpoint
ALTER TABLE `ledger` ADD `source` text NOT NULL DEFAULT '';--> statement-breakpoint
ALTER TABLE `ledger` ADD `ref` text NOT NULL DEFAULT '';--> statement-breakpoint
ALTER TABLE `ledger` ADD `leg` text NOT NULL DEFAULT '';--> statement-breakpoint
UPDATE `ledger` SET
  `source` = CASE `type` WHEN 'spend' THEN 'action' WHEN 'transfer_out' THEN 'transfer' WHEN 'transfer_in' THEN 'transfer' ELSE `type` END,
  `leg` = CASE `type` WHEN 'transfer_out' THEN 'out' WHEN 'transfer_in' THEN 'in' ELSE '' END,
  `ref` = CASE
    WHEN `type` IN ('grant', 'expiry') THEN `id`
    WHEN `type` = 'transfer_in' THEN substr(`id`, length('transfer:') + 1, length(`id`) - length('transfer:') - length(':in'))
    ELSE substr(`id`, instr(`id`, ':') + 1)
  END;--> statement-breakpoint
CREATE UNIQUE INDEX `ledger_account_key` ON `ledger` (`account`,`source`,`ref`,`leg`);--> statement-breakpoint
-- Chat: when each event was received, and the folded state of each conversation.
ALTER TABLE `chat_events` ADD `received_at` integer NOT NULL DEFAULT 0;--> statement-breakpoint
UPDATE `chat_events` SET `received_at` = `time`;--> statement-breakpoint
ALTER TABLE `conversations` ADD `latest_at` integer NOT NULL DEFAULT 0;--> statement-breakpoint
ALTER TABLE `conversations` ADD `closed` integer NOT NULL DEFAULT 0;--> statement-breakpoint
ALTER TABLE `conversations` ADD `active` integer NOT NULL DEFAULT 0;--> statement-breakpoint
ALTER TABLE `conversations` ADD `first_received_at` integer NOT NULL DEFAULT 0;--> statement-breakpoint
ALTER TABLE `conversations` ADD `last_received_at` integer NOT NULL DEFAULT 0;--> statement-breakpoint
ALTER TABLE `conversations` ADD `events` integer NOT NULL DEFAULT 0;--> statement-breakpoint
UPDATE `conversations` SET
  `latest_at` = (SELECT max(e.`time`) FROM `chat_events` e WHERE e.`container` = `conversations`.`container` AND e.`conversation` = `conversations`.`conversation`),
  `closed` = `status` <> 'open',
  `active` = coalesce((SELECT e.`phase` NOT IN ('handoff', 'end') FROM `chat_events` e
    WHERE e.`container` = `conversations`.`container` AND e.`conversation` = `conversations`.`conversation` AND e.`time` <= `conversations`.`last_event_at`
    ORDER BY e.`time` DESC LIMIT 1), 1),
  `first_received_at` = `started_at`,
  `last_received_at` = `last_event_at`,
  `events` = (SELECT count(*) FROM `chat_events` e WHERE e.`container` = `conversations`.`container` AND e.`conversation` = `conversations`.`conversation`);
