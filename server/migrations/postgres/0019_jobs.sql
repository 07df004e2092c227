-- JOB-1: a reminder of one kind reaches a user at most once a day (UTC). The day's row
-- is claimed in the same transaction that queues the reminder's mail, so any number of
-- instances and restarts send it once, and an instance that dies before committing
-- leaves nothing claimed. No foreign key: a claim outlives the user's re-enrolment.
CREATE TABLE reminders (
    user_uuid TEXT NOT NULL,
    kind TEXT NOT NULL,
    day BIGINT NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (user_uuid, kind, day)
);

-- JOB-1: what each scheduled job last did, for operators: when it last started and
-- finished, by which instance, how many reminders it queued, and its last failure.
CREATE TABLE job_runs (
    job TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    succeeded_at BIGINT,
    queued BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
