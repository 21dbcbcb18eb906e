"""The SQLite schema: events in the Sentry event schema, grouped into issues."""

from __future__ import annotations

import sqlite3

from . import _backfill
from ._connection import connect as connect  # where every store connection is opened

SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    culprit TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT 'error',
    platform TEXT NOT NULL DEFAULT 'python',
    environment TEXT,
    release TEXT,
    count INTEGER NOT NULL DEFAULT 0,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'unresolved',
    regressed INTEGER NOT NULL DEFAULT 0,
    last_event_id TEXT
);
CREATE INDEX IF NOT EXISTS issues_by_last_seen ON issues (last_seen DESC);
CREATE INDEX IF NOT EXISTS issues_by_status ON issues (status, last_seen DESC);
CREATE INDEX IF NOT EXISTS issues_by_platform ON issues (platform, last_seen DESC);

CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    issue_id INTEGER NOT NULL REFERENCES issues (id),
    timestamp REAL NOT NULL,
    platform TEXT,
    level TEXT,
    environment TEXT,
    release TEXT,
    request_id TEXT,
    trace_id TEXT,
    session_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_issue ON events (issue_id, timestamp DESC);
CREATE INDEX IF NOT EXISTS events_by_time ON events (timestamp);
CREATE INDEX IF NOT EXISTS events_by_request ON events (request_id);
CREATE INDEX IF NOT EXISTS events_by_trace ON events (trace_id);
CREATE INDEX IF NOT EXISTS events_by_session ON events (session_id);

CREATE TABLE IF NOT EXISTS generations (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    source TEXT NOT NULL DEFAULT 'backend',
    model TEXT NOT NULL,
    version TEXT,
    status TEXT NOT NULL,
    duration_ms REAL,
    first_chunk_ms REAL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    error_type TEXT,
    request_id TEXT,
    trace_id TEXT,
    session_id TEXT
);
CREATE INDEX IF NOT EXISTS generations_by_time ON generations (timestamp);
CREATE INDEX IF NOT EXISTS generations_by_model ON generations (model, timestamp);
CREATE INDEX IF NOT EXISTS generations_by_request ON generations (request_id);

CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    endpoint TEXT NOT NULL,
    request_id TEXT,
    data TEXT
);
CREATE INDEX IF NOT EXISTS usage_by_endpoint ON usage (endpoint, timestamp);

CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    request_id TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_time ON requests (timestamp);
CREATE INDEX IF NOT EXISTS requests_by_request ON requests (request_id);

CREATE TABLE IF NOT EXISTS browser_activity (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    type TEXT NOT NULL,
    session_id TEXT,
    url TEXT,
    data TEXT
);
CREATE INDEX IF NOT EXISTS activity_by_session ON browser_activity (session_id, timestamp);

-- What Sentry SDKs send beside their events: attachments (kept beside the event they came with,
-- bounded by --max-attachment-bytes and retention) and user feedback.
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    event_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT,
    attachment_type TEXT,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS attachments_by_event ON attachments (event_id, name);
CREATE INDEX IF NOT EXISTS attachments_by_time ON attachments (timestamp);

CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    timestamp REAL NOT NULL,
    feedback_id TEXT NOT NULL,
    event_id TEXT,
    name TEXT,
    email TEXT,
    message TEXT NOT NULL,
    url TEXT,
    source TEXT NOT NULL,
    data TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS feedback_by_id ON feedback (feedback_id);
CREATE INDEX IF NOT EXISTS feedback_by_event ON feedback (event_id);
CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback (timestamp);

-- What the collector received, stored, skipped and refused, by item type and reason, per hour.
CREATE TABLE IF NOT EXISTS ingest_counts (
    hour INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (hour, outcome, type, reason)
) WITHOUT ROWID;
"""

# What the dashboard reads on every page view, kept up to date as events are inserted so that
# no page counts over `events`: events per issue per hour (the 24h sparklines) and the number of
# sessions (browser) or requests (backend) each issue affected. Also indexes for every filter.
DASHBOARD = """
CREATE INDEX IF NOT EXISTS issues_by_environment ON issues (environment, last_seen DESC);
CREATE INDEX IF NOT EXISTS issues_by_release ON issues (release, last_seen DESC);
CREATE INDEX IF NOT EXISTS generations_by_trace ON generations (trace_id);
CREATE INDEX IF NOT EXISTS generations_by_session ON generations (session_id, timestamp);
CREATE INDEX IF NOT EXISTS usage_by_time ON usage (timestamp);
CREATE INDEX IF NOT EXISTS activity_by_time ON browser_activity (timestamp);

CREATE TABLE IF NOT EXISTS issue_hours (
    issue_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (issue_id, hour)
) WITHOUT ROWID;
-- The sessions or requests already counted for each issue, with when they were first seen so
-- retention can bound the table; forgetting an old key only risks counting it again.
CREATE TABLE IF NOT EXISTS issue_keys (
    issue_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (issue_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS issue_keys_by_seen ON issue_keys (issue_id, seen);
CREATE TABLE IF NOT EXISTS issue_stats (
    issue_id INTEGER PRIMARY KEY,
    affected INTEGER NOT NULL DEFAULT 0
);
CREATE TRIGGER IF NOT EXISTS events_count_hour AFTER INSERT ON events BEGIN
    INSERT INTO issue_hours (issue_id, hour, count)
    VALUES (NEW.issue_id, CAST(NEW.timestamp / 3600 AS INTEGER), 1)
    ON CONFLICT (issue_id, hour) DO UPDATE SET count = count + 1;
END;
DROP TRIGGER IF EXISTS events_count_affected;  -- its first version, without `seen`
DROP TABLE IF EXISTS issue_affected;
CREATE TRIGGER IF NOT EXISTS events_count_keys AFTER INSERT ON events
WHEN coalesce(NEW.session_id, NEW.request_id) IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM issue_keys
    WHERE issue_id = NEW.issue_id AND key = coalesce(NEW.session_id, NEW.request_id)
) BEGIN
    INSERT INTO issue_keys (issue_id, key, seen)
    VALUES (NEW.issue_id, coalesce(NEW.session_id, NEW.request_id), NEW.timestamp);
    INSERT INTO issue_stats (issue_id, affected) VALUES (NEW.issue_id, 1)
    ON CONFLICT (issue_id) DO UPDATE SET affected = affected + 1;
END;
"""

# Fills the dashboard's counters once, for a store written before they existed.
BACKFILL = """
INSERT OR IGNORE INTO issue_hours (issue_id, hour, count)
    SELECT issue_id, CAST(timestamp / 3600 AS INTEGER), COUNT(*) FROM events GROUP BY 1, 2;
INSERT OR IGNORE INTO issue_keys (issue_id, key, seen)
    SELECT issue_id, coalesce(session_id, request_id), MIN(timestamp) FROM events
    WHERE coalesce(session_id, request_id) IS NOT NULL GROUP BY 1, 2;
INSERT OR REPLACE INTO issue_stats (issue_id, affected)
    SELECT issue_id, COUNT(*) FROM issue_keys GROUP BY issue_id;
"""

# The five-minute `traffic` counters and their triggers, replaced by the rollups of every range
# (`_rollup_tables`), which `_backfill` fills from the rows themselves.
RETIRED = """
DROP TRIGGER IF EXISTS requests_count;
DROP TRIGGER IF EXISTS usage_count;
DROP TABLE IF EXISTS traffic;
"""


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    existed = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'issue_hours'"
    ).fetchone()
    conn.executescript(DASHBOARD)
    if not existed:  # a store written before these counters: fill them once
        conn.executescript(BACKFILL)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'traffic'").fetchone():
        conn.executescript(RETIRED)
    _backfill.create(conn)
