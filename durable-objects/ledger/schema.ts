/**
 * The ledger's tables, shared by every Durable Object that delivers events. `events` holds each
 * stored event once; `deliveries` holds one row per (event, route) still to be delivered, with its
 * retry state and, while an attempt is out, its lease.
 */
export const LEDGER_SCHEMA: string[] = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     attrs TEXT NOT NULL,
     data BLOB,
     implied_json INTEGER NOT NULL DEFAULT 0,
     ttl INTEGER NOT NULL,
     received_at INTEGER NOT NULL)`,
  `CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     event_seq INTEGER NOT NULL,
     route TEXT NOT NULL,
     hop TEXT NOT NULL,
     reply_seq INTEGER,
     attempt INTEGER NOT NULL DEFAULT 0,
     due_at INTEGER NOT NULL,
     lease_until INTEGER,
     gen INTEGER NOT NULL DEFAULT 0,
     error TEXT)`,
  "CREATE INDEX deliveries_by_event ON deliveries (event_seq)",
  "CREATE INDEX deliveries_by_time ON deliveries (lease_until, due_at)",
];

/** Later ledger migrations, applied in order after LEDGER_SCHEMA; append, never edit. */
export const LEDGER_MIGRATIONS: string[][] = [
  // Clean-up of a finished delivery's event must find other users of the event by index, not by scan.
  ["CREATE INDEX deliveries_by_reply ON deliveries (reply_seq)"],
  // Whether the current lease is an attempt made by the object itself: such an attempt dies with the
  // object, so a new incarnation sends it again at once instead of waiting for the lease to run out.
  ["ALTER TABLE deliveries ADD COLUMN local INTEGER NOT NULL DEFAULT 0"],
  // Ordered routes: deliveries of one key form a chain; only its head is out, the rest are `blocked`.
  // `throttles` counts the 429s a delivery of a flow-controlled route waited out without spending a retry.
  [
    "ALTER TABLE deliveries ADD COLUMN order_key TEXT",
    "ALTER TABLE deliveries ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE deliveries ADD COLUMN throttles INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX deliveries_by_chain ON deliveries (route, order_key, blocked, id)",
  ],
  // A redrive of a kept dead letter names its entry, removed once the delivery succeeds.
  ["ALTER TABLE deliveries ADD COLUMN redrive_of TEXT"],
  // Archiving owners (`eddy.dev/archive-retention`): 1 until the event is written to the archive;
  // the event stays in the ledger until then, even when its deliveries are done.
  [
    "ALTER TABLE events ADD COLUMN archive INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX events_to_archive ON events (seq) WHERE archive = 1",
    // Replays of the archive run by this object: their window end and cursor (durable-objects/replayer.ts).
    `CREATE TABLE replays (
       uid TEXT PRIMARY KEY, plan TEXT NOT NULL, until INTEGER NOT NULL,
       after_key TEXT NOT NULL DEFAULT '', last_seq INTEGER NOT NULL DEFAULT 0,
       replayed INTEGER NOT NULL DEFAULT 0, position INTEGER,
       state TEXT NOT NULL DEFAULT 'running', message TEXT, reported INTEGER NOT NULL DEFAULT 1)`,
  ],
  // A replayed event names its Replay, so the replay ends only once its deliveries have settled.
  [
    "ALTER TABLE events ADD COLUMN replay TEXT",
    "CREATE INDEX events_by_replay ON events (replay) WHERE replay IS NOT NULL",
  ],
  // Most deliveries are neither a reply hop nor ordered: indexes that cover only those that are
  // spare every insert and delete two B-tree writes (the queries name a value, so they still use them).
  [
    "DROP INDEX deliveries_by_reply",
    "CREATE INDEX deliveries_by_reply ON deliveries (reply_seq) WHERE reply_seq IS NOT NULL",
    "DROP INDEX deliveries_by_chain",
    "CREATE INDEX deliveries_by_chain ON deliveries (route, order_key, blocked, id) WHERE order_key IS NOT NULL",
  ],
];
