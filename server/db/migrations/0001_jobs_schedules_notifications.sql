CREATE TABLE `collection_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`collection_id` text,
	`collection_name` text DEFAULT '' NOT NULL,
	`status` text NOT NULL,
	`trigger` text DEFAULT 'manual' NOT NULL,
	`steps` text DEFAULT '[]' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
	`created_by` text,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`collection_id`) REFERENCES `collections`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `collection_runs_collection_idx` ON `collection_runs` (`collection_id`);--> statement-breakpoint
CREATE TABLE `collection_templates` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`steps` text NOT NULL,
	`schedule` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
	`created_by` text
);
--> statement-breakpoint
CREATE TABLE `collections` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`steps` text DEFAULT '[]' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
	`updated_at` integer NOT NULL,
	`created_by` text
);
--> statement-breakpoint
CREATE TABLE `notification_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` text,
	`job_kind` text NOT NULL,
	`job_id` text NOT NULL,
	`run_id` text NOT NULL,
	`channel` text NOT NULL,
	`target` text NOT NULL,
	`event` text NOT NULL,
	`status` text NOT NULL,
	`error` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`rule_id`) REFERENCES `notification_rules`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `notification_deliveries_run_idx` ON `notification_deliveries` (`run_id`);--> statement-breakpoint
CREATE TABLE `notification_rules` (
	`id` text PRIMARY KEY NOT NULL,
	`job_kind` text NOT NULL,
	`job_id` text NOT NULL,
	`channel` text NOT NULL,
	`target` text NOT NULL,
	`events` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `notification_rules_job_idx` ON `notification_rules` (`job_kind`,`job_id`);--> statement-breakpoint
CREATE TABLE `notification_settings` (
	`id` text PRIMARY KEY NOT NULL,
	`link_base_url` text NOT NULL,
	`smtp_host` text,
	`smtp_port` integer,
	`smtp_secure` integer DEFAULT false NOT NULL,
	`smtp_username` text,
	`smtp_from` text,
	`smtp_password` text,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `schedule_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`schedule_id` text NOT NULL,
	`kind` text NOT NULL,
	`scheduled_for` integer NOT NULL,
	`at` integer NOT NULL,
	`run_id` text,
	`message` text DEFAULT '' NOT NULL,
	FOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `schedule_events_schedule_idx` ON `schedule_events` (`schedule_id`);--> statement-breakpoint
CREATE TABLE `schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`job_kind` text NOT NULL,
	`job_id` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`spec` text NOT NULL,
	`next_run_at` integer,
	`last_run_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsecond') * 1000 as integer)) NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedules_job_idx` ON `schedules` (`job_kind`,`job_id`);