CREATE TABLE staff (id INTEGER PRIMARY KEY, name TEXT NOT NULL, mail TEXT, active INTEGER NOT NULL);
INSERT INTO staff VALUES (1, 'Ada', 'ADA@Example.org', 1), (2, 'Alan', 'alan@example.org', 0), (3, 'Grace', 'Grace@Example.org', 1), (4, 'Ken', NULL, 1);
CREATE TABLE directory (id INTEGER PRIMARY KEY, name TEXT, mail TEXT, source TEXT);
INSERT INTO directory VALUES (1, 'Ada L.', 'old@example.org', 'manual'), (9, 'Someone', 's@example.org', 'manual');
CREATE TABLE groups (name TEXT, members INTEGER);
INSERT INTO groups VALUES ('admins', 2), ('dev', 5);
