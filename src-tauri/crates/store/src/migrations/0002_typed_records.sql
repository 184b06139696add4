-- Version 2: typed records.
--
-- * events.category: the decoder's category of a failure, in a column of its
--   own. Version 1 wrote it at the end of the message ("title [category]");
--   those rows get the column filled from there, and keep their message.
-- * health.last_failure is always a failure record ({"verdict": {...},
--   "class": {...}, ...}); a bare verdict left by an older build is wrapped,
--   classified the way the retry policy classifies verdicts.
-- * health.unsaved_since: new tokens were obtained but the keychain refused
--   them (cleared by the next successful save).
-- * token_facts.write_seq: which token write put the stored set there. It
--   comes from one counter for the whole database, so a newer grant always
--   has a larger number, even after the account was disconnected and signed
--   in again; a write that expected another number lost a race and is refused.

ALTER TABLE events ADD COLUMN category TEXT;

UPDATE events SET category = (
    SELECT c.column1 FROM (VALUES
        ('expired'), ('revoked'), ('invalid-grant'), ('step-up'), ('interaction'),
        ('blocked'), ('account'), ('consent'), ('app-registration'), ('request'),
        ('tenant'), ('federation'), ('device'), ('service'), ('throttled'),
        ('network'), ('cancelled'), ('unknown')
    ) AS c WHERE events.message LIKE '% [' || c.column1 || ']'
)
WHERE outcome <> 'ok' AND message LIKE '%]';

UPDATE health SET last_failure = json_object(
    'verdict', json(last_failure),
    'class', CASE
        WHEN json_extract(last_failure, '$.transient') THEN json_object(
            'class', 'transient',
            'retry_after', json_extract(last_failure, '$.retry_after_seconds'))
        WHEN json_extract(last_failure, '$.who_acts') = 'developer'
            THEN json_object('class', 'app_misconfigured')
        WHEN json_extract(last_failure, '$.who_acts') = 'admin'
            AND coalesce(json_extract(last_failure, '$.reconnect_fixes'), '') <> 'yes'
            THEN json_object('class', 'needs_admin')
        ELSE json_object('class', 'reconnect_needed')
    END,
    'failed_at', 0,
    'fingerprint', '')
WHERE last_failure IS NOT NULL
    AND json_valid(last_failure)
    AND json_type(last_failure, '$.verdict') IS NULL;

ALTER TABLE health ADD COLUMN unsaved_since INTEGER;

ALTER TABLE token_facts ADD COLUMN write_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE token_writes (
    only_row    INTEGER PRIMARY KEY CHECK (only_row = 1),
    last_seq    INTEGER NOT NULL
);
INSERT INTO token_writes (only_row, last_seq) VALUES (1, 0);
