-- A history database at schema version 3 (a long answer kept in its chunks and indexed in
-- pieces; the first answer here stands for one, shortened), as Switchyard wrote it (kept verbatim:
-- a migration test opens it with today's code).
CREATE TABLE sessions(
    id INTEGER PRIMARY KEY,
    pid INTEGER NOT NULL,
    started INTEGER NOT NULL,
    ended INTEGER
);
CREATE TABLE conversations(
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    forked_from TEXT
);
CREATE INDEX conversations_updated ON conversations(updated);
CREATE TABLE panes(
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    slot INTEGER NOT NULL,
    model TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY(conversation_id, slot)
);
CREATE TABLE turns(
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    created INTEGER NOT NULL,
    fts INTEGER,
    UNIQUE(conversation_id, seq)
);
CREATE TABLE messages(
    id INTEGER PRIMARY KEY,
    turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
    slot INTEGER NOT NULL,
    session_id INTEGER,
    model_asked TEXT NOT NULL,
    model_served TEXT,
    provider TEXT,
    content TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    finish_reason TEXT,
    error TEXT,
    ttft_ms INTEGER,
    total_ms INTEGER,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost REAL,
    routing TEXT NOT NULL DEFAULT '{}',
    fts INTEGER, fts_last INTEGER
);
CREATE INDEX messages_turn ON messages(turn_id);
CREATE INDEX messages_state ON messages(state);
CREATE TABLE chunks(
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY(message_id, seq)
);
-- One row per prompt and finished answer, in the order written (so the latest come
-- first without scoring every match); `ref` is a message's id, or minus a turn's id for
-- its prompt; `fts` in turns and messages points back, for deletes.
CREATE VIRTUAL TABLE search USING fts5(text, ref UNINDEXED, tokenize = 'unicode61');
CREATE TABLE attachments(
        turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        ord INTEGER NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        origin TEXT NOT NULL,
        size INTEGER NOT NULL,
        hash TEXT NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',
        mime TEXT,
        bytes BLOB,
        url TEXT,
        PRIMARY KEY(turn_id, ord)
    );
INSERT INTO sessions VALUES (1, 4242, 1796150000000, 1796150100000);
INSERT INTO conversations VALUES (1, '19ad9a3b000-0000beef', 'Compare two sorts', 1796150000000, 1796150050000, NULL);
INSERT INTO panes VALUES (1, 1, 'fleet/alpha', '{"temperature":0.2}');
INSERT INTO panes VALUES (1, 2, 'fleet/beta:free', '{}');
INSERT INTO search(rowid, text, ref) VALUES (1, 'Compare quicksort and mergesort', -1);
INSERT INTO search(rowid, text, ref) VALUES (2, 'Quicksort partitions in place; ', 1);
INSERT INTO search(rowid, text, ref) VALUES (3, 'mergesort is stable.', 1);
INSERT INTO turns VALUES (1, 1, 0, 'Compare quicksort and mergesort', 1796150000000, 1);
INSERT INTO messages VALUES (1, 1, 1, 1, 'fleet/alpha', 'fleet/alpha', 'Acme', '', 'complete', 'stop', NULL, 410, 2300, 12, 40, 0.00012, '{"attempts":[{"provider":"Acme","model":"fleet/alpha"}]}', 2, 3);
INSERT INTO messages VALUES (2, 1, 2, 1, 'fleet/beta:free', NULL, 'Zed', 'Mergesort needs extra', 'streaming', NULL, NULL, 900, NULL, NULL, NULL, NULL, '{}', NULL, NULL);
INSERT INTO chunks VALUES (1, 1, 'Quicksort partitions in place; ');
INSERT INTO chunks VALUES (1, 2, 'mergesort is stable.');
INSERT INTO chunks VALUES (2, 1, ' memory for merging.');
INSERT INTO attachments VALUES (1, 0, 'dot.png', 'png', '{"path":"/tmp/dot.png"}', 29, 'abababababababababababababababababababababababababababababababab', '{"pixels":[1,1]}', 'image/png', X'89504e470d0a1a0a0000000d4948445200000001000000010806000000', NULL);
INSERT INTO attachments VALUES (1, 1, 'big.pdf', 'pdf', '{"path":"/tmp/big.pdf"}', 99000000, 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', '{"pages":300}', NULL, NULL, NULL);
PRAGMA user_version = 3;
