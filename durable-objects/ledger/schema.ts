/**
 * The ledger's tables, shared by every Durable Object that delivers events, under versioned
 * migrations (append, never edit). Since the last migration below: `batches` holds the events of
 * each group commit in one row with the deliveries they owe (./batch.ts); `deliveries` holds a row
 * only for a delivery off its first attempt (retrying, held, blocked in an ordered chain, on its
 * dead-letter hop); `ledger_meta` numbers the object's incarnations and the ids they hand out.
 * The first statements are the original schema, kept so every object migrates the same way.
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
  // One row per group commit instead of one per event and one per delivery (rows written are what
  // Cloudflare bills Durable Object storage by). What was stored before moves over: each event
  // becomes a batch of its own, each delivery keeps its id and state as a row; a lease of the
  // previous incarnation ends (due at once), as it would have at restart.
  [
    `CREATE TABLE batches (
       id INTEGER PRIMARY KEY, dels TEXT NOT NULL, events TEXT NOT NULL, data BLOB,
       archive INTEGER NOT NULL DEFAULT 0, replay TEXT, settled TEXT, counts TEXT)`,
    `INSERT INTO batches (id, dels, events, data, archive, replay, settled)
       SELECT seq, '[]',
         json_array(json_array(seq, json(attrs), ttl, received_at,
           implied_json + 2 * archive + CASE WHEN data IS NULL THEN 0 ELSE 4 END, 0, COALESCE(length(data), 0))),
         data, archive, replay, '' FROM events`,
    `CREATE TABLE deliveries_v2 (
       id INTEGER PRIMARY KEY, batch INTEGER NOT NULL, idx INTEGER NOT NULL, reply_batch INTEGER, reply_idx INTEGER,
       route TEXT NOT NULL, hop TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL,
       leased INTEGER NOT NULL DEFAULT 0, error TEXT, order_key TEXT, blocked INTEGER NOT NULL DEFAULT 0,
       throttles INTEGER NOT NULL DEFAULT 0, redrive_of TEXT)`,
    `INSERT INTO deliveries_v2 (id, batch, idx, reply_batch, reply_idx, route, hop, attempt, due_at, error, order_key, blocked, throttles, redrive_of)
       SELECT id, event_seq, 0, reply_seq, CASE WHEN reply_seq IS NULL THEN NULL ELSE 0 END, route, hop, attempt,
         CASE WHEN lease_until IS NULL THEN due_at ELSE 0 END, error, order_key, blocked, throttles, redrive_of FROM deliveries`,
    `CREATE TABLE ledger_meta (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL, next_id INTEGER NOT NULL)`,
    `INSERT INTO ledger_meta (id, epoch, next_id)
       SELECT 1, 0, 1 + MAX(COALESCE((SELECT MAX(seq) FROM sqlite_sequence WHERE name IN ('events', 'deliveries')), 0),
                            COALESCE((SELECT MAX(seq) FROM events), 0), COALESCE((SELECT MAX(id) FROM deliveries), 0))`,
    "DROP TABLE deliveries",
    "DROP TABLE events",
    "ALTER TABLE deliveries_v2 RENAME TO deliveries",
    // Only what a query waits for is indexed: index rows are rows written too.
    "CREATE INDEX deliveries_due ON deliveries (due_at) WHERE blocked = 0 AND leased = 0",
    "CREATE INDEX deliveries_chain ON deliveries (route, order_key, id) WHERE blocked = 1",
    // Counters in one row: a flush that changes five of them writes one row, not five (../counters.ts).
    "CREATE TABLE counter_totals (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)",
    "INSERT INTO counter_totals (id, data) SELECT 1, json_group_object(name, value) FROM counters",
    "DROP TABLE counters",
  ],
];
