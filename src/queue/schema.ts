import type Database from 'better-sqlite3';
import { QueueError } from './queue-error.ts';

/**
 * Migrations in order: entry i takes the database from user_version i to i + 1. Append, never edit a
 * released entry: a gateway upgraded in the field migrates the queue it already holds.
 *
 * Columns that list() sorts or filters on are plain typed columns; the parts nothing queries (the rest of
 * the MAIL parameters, the submitter, a delivery status) are JSON text. Tables are STRICT so a wrong type
 * is an error rather than a silently coerced value. Enumerations that will grow (route kinds, recipient
 * states) are checked in TypeScript, not with CHECK constraints, which SQLite cannot alter in place.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE messages (
    id                 TEXT    PRIMARY KEY NOT NULL,
    received_at        INTEGER NOT NULL,
    sender             TEXT    NOT NULL,
    priority           INTEGER NOT NULL CHECK (priority BETWEEN -9 AND 9),
    priority_source    TEXT    NOT NULL,
    priority_requested INTEGER,
    by_at              INTEGER,
    by_mode            TEXT    CHECK (by_mode IN ('R', 'N')),
    by_trace           INTEGER CHECK (by_trace IN (0, 1)),
    by_seconds         INTEGER,
    aby_at             INTEGER,
    aby_mode           TEXT    CHECK (aby_mode IN ('R', 'N')),
    aby_trace          INTEGER CHECK (aby_trace IN (0, 1)),
    aby_seconds        INTEGER,
    params             TEXT    NOT NULL,
    submitter          TEXT    NOT NULL,
    size               INTEGER NOT NULL CHECK (size = length(content)),
    content            BLOB    NOT NULL,
    -- The earlier of BY and ABY, NULL when neither was given: what list() sorts on after priority.
    deadline_at        INTEGER GENERATED ALWAYS AS
                         (min(coalesce(by_at, aby_at), coalesce(aby_at, by_at))) VIRTUAL,
    -- A deadline is all four columns or none, so decoding never meets half of one.
    CHECK ((by_at IS NULL) = (by_mode IS NULL) AND (by_at IS NULL) = (by_trace IS NULL)
           AND (by_at IS NULL) = (by_seconds IS NULL)),
    CHECK ((aby_at IS NULL) = (aby_mode IS NULL) AND (aby_at IS NULL) = (aby_trace IS NULL)
           AND (aby_at IS NULL) = (aby_seconds IS NULL))
  ) STRICT;

  -- Exactly list()'s ORDER BY, so the queue is read in order without a sort step.
  -- "deadline_at IS NULL" first puts messages without a deadline after those with one.
  CREATE INDEX messages_list_order
    ON messages (priority DESC, deadline_at IS NULL, deadline_at, size, received_at, id);

  CREATE TABLE recipients (
    message_id   TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    address      TEXT    NOT NULL,
    notify       TEXT,   -- NULL: absent; 'NEVER'; or conditions joined by ','
    orcpt_type   TEXT,
    orcpt_addr   TEXT,
    arcpt_type   TEXT,
    arcpt_addr   TEXT,
    route_kind   TEXT    NOT NULL,
    route_target TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    status       TEXT,   -- DeliveryStatus as JSON, NULL when there is none yet
    PRIMARY KEY (message_id, idx),
    CHECK ((orcpt_type IS NULL) = (orcpt_addr IS NULL)),
    CHECK ((arcpt_type IS NULL) = (arcpt_addr IS NULL))
  ) STRICT;

  -- Serves list()'s "not fully done" filter without reading every recipient row.
  CREATE INDEX recipients_queued ON recipients (message_id) WHERE state = 'queued';
  `,
  // 2: delivery attempts, for the relay's retries and give-up times.
  `
  ALTER TABLE recipients ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE recipients ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE recipients ADD COLUMN first_attempt_at INTEGER;
  CREATE INDEX recipients_due ON recipients (next_attempt_at) WHERE state = 'queued' AND route_kind <> 'link';
  `,
  // 3: the radio link's state, so a restart resumes transfers and never takes a message twice.
  `
  CREATE TABLE link_bundles (
    peer TEXT NOT NULL, id TEXT NOT NULL, bundle BLOB NOT NULL, sent_offset INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (peer, id)
  ) STRICT;
  CREATE TABLE link_partial (peer TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (peer, id)) STRICT;
  CREATE TABLE link_delivered (peer TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (peer, id)) STRICT;
  `,
  // 4: when a bundle was made (the deadlines inside count from then, also after a restart); received prefixes
  // kept as pieces appended frame by frame, instead of the whole prefix rewritten at every turn.
  `
  ALTER TABLE link_bundles ADD COLUMN made_at INTEGER;
  -- Bundles made before: their message's receipt is a lower bound, so their deadlines can only shrink.
  UPDATE link_bundles SET made_at = (SELECT received_at FROM messages WHERE messages.id = link_bundles.id);
  CREATE TABLE link_received (
    peer TEXT NOT NULL, id TEXT NOT NULL, offset INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (peer, id, offset)
  ) STRICT;
  INSERT INTO link_received (peer, id, offset, data) SELECT peer, id, 0, data FROM link_partial;
  DROP TABLE link_partial;
  `,
  // 5: bundles made against a session's history are kept too (their row says the message went on the air, and
  // when), marked so that they are never sent again in another session.
  `
  ALTER TABLE link_bundles ADD COLUMN session_bound INTEGER NOT NULL DEFAULT 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to SCHEMA_VERSION. Safe when two processes open the queue at once: the check is
 * repeated under a write lock, so only one of them applies a migration.
 */
export function migrate(db: Database.Database): void {
  const check = (version: number): void => {
    if (version > SCHEMA_VERSION) {
      throw new QueueError(
        'unsupported-schema',
        `queue schema version ${version} is newer than this hfmail understands (${SCHEMA_VERSION})`,
      );
    }
  };
  const seen = userVersion(db);
  check(seen);
  if (seen === SCHEMA_VERSION) return; // the common case takes no write lock (the CLI beside a running gateway)

  const apply = db.transaction(() => {
    const current = userVersion(db);
    check(current);
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    // user_version lives in the database header, so it commits or rolls back with the migration.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  apply.immediate();
}
