CREATE TABLE `run_plans` (
	`run_id` text NOT NULL,
	`node_id` text NOT NULL,
	`position` integer NOT NULL,
	`plan` text NOT NULL,
	`results` text,
	PRIMARY KEY(`run_id`, `node_id`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `runs` ADD `mode` text DEFAULT 'run' NOT NULL;--> statement-breakpoint
ALTER TABLE `runs` ADD `plan_run_id` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `graph_hash` text;--> statement-breakpoint
CREATE INDEX `runs_plan_run_idx` ON `runs` (`plan_run_id`);