CREATE TABLE `approval_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`job_kind` text NOT NULL,
	`job_id` text NOT NULL,
	`job_name` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`trigger` text NOT NULL,
	`requested_by` text,
	`requested_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`params` text DEFAULT '{}' NOT NULL,
	`plan_run_id` text,
	`decided_by` text,
	`decided_at` integer,
	`comment` text DEFAULT '' NOT NULL,
	`run_id` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `approval_requests_pending_idx` ON `approval_requests` (`job_kind`,`job_id`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `approval_requests_status_idx` ON `approval_requests` (`status`);--> statement-breakpoint
CREATE TABLE `approval_rules` (
	`job_kind` text NOT NULL,
	`job_id` text NOT NULL,
	`expires_after_minutes` integer DEFAULT 1440 NOT NULL,
	`review_plan` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
	`created_by` text,
	PRIMARY KEY(`job_kind`, `job_id`)
);
--> statement-breakpoint
CREATE TABLE `history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`at` integer NOT NULL,
	`graph_id` text,
	`graph_name` text DEFAULT '' NOT NULL,
	`started_by` text,
	`started_by_name` text,
	`node_id` text NOT NULL,
	`node_type` text NOT NULL,
	`action` text NOT NULL,
	`dn` text NOT NULL,
	`new_dn` text,
	`key` text DEFAULT '{}' NOT NULL,
	`changed` text DEFAULT '[]' NOT NULL,
	`before` text,
	`after` text,
	`outcome` text NOT NULL,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `history_at_idx` ON `history` (`at`);--> statement-breakpoint
CREATE INDEX `history_run_idx` ON `history` (`run_id`);--> statement-breakpoint
CREATE INDEX `history_dn_idx` ON `history` (`dn`);