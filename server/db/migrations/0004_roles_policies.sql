CREATE TABLE `policies` (
	`role` text PRIMARY KEY NOT NULL,
	`document` text NOT NULL,
	`updated_at` integer NOT NULL,
	`updated_by` text
);
--> statement-breakpoint
ALTER TABLE `users` ADD `disabled` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- The roles of issue 8 point 5: the earlier names map onto the new ones.
UPDATE `users` SET `role` = 'designer' WHERE `role` = 'editor';--> statement-breakpoint
UPDATE `users` SET `role` = 'operator' WHERE `role` = 'runner';
