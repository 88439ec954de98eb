"""Tables of the alert pipeline: check runs, alerts, notifications."""

from __future__ import annotations

from engine.store.migrations import Migration

MIGRATIONS: list[Migration] = [
    Migration(
        "alerts_0001_check_runs_alerts_notifications",
        sql=(
            """CREATE TABLE IF NOT EXISTS check_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                check_name TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT NOT NULL,
                outcome TEXT NOT NULL,
                findings INTEGER NOT NULL DEFAULT 0,
                findings_json TEXT,
                error TEXT,
                trigger TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_check_runs_check_started ON check_runs (check_name, started_at)",
            """CREATE TABLE IF NOT EXISTS alerts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                check_name TEXT NOT NULL,
                subject TEXT NOT NULL,
                severity TEXT NOT NULL,
                title TEXT NOT NULL,
                detail TEXT,
                state TEXT NOT NULL DEFAULT 'open',
                opened_at TEXT NOT NULL,
                last_seen_at TEXT NOT NULL,
                acknowledged_at TEXT,
                snoozed_until TEXT,
                resolved_at TEXT,
                first_notified_at TEXT,
                last_notified_at TEXT,
                notify_count INTEGER NOT NULL DEFAULT 0
            )""",
            # One live alert per (check, subject); resolved ones are history.
            "CREATE UNIQUE INDEX IF NOT EXISTS ux_alerts_live ON alerts (check_name, subject)"
            " WHERE state != 'resolved'",
            "CREATE INDEX IF NOT EXISTS ix_alerts_state ON alerts (state, check_name)",
            """CREATE TABLE IF NOT EXISTS notifications (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                check_name TEXT NOT NULL,
                kind TEXT NOT NULL,
                severity TEXT NOT NULL,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                alert_ids TEXT NOT NULL DEFAULT '[]',
                created_at TEXT NOT NULL,
                decision_id INTEGER REFERENCES heartbeat_log(id) ON DELETE SET NULL
            )""",
            "CREATE INDEX IF NOT EXISTS ix_notifications_created ON notifications (created_at)",
        ),
    ),
]

# The latest recorded SENT of a check, by id rather than by timestamp (a clock set back must not
# let a future-stamped row hide later ones): the cooldown lookup and the digest use this index.
MIGRATIONS.append(
    Migration(
        "alerts_0002_heartbeat_log_latest_by_id",
        sql=("CREATE INDEX IF NOT EXISTS ix_heartbeat_log_check_decision_id"
             " ON heartbeat_log (check_name, decision, id, ts)",),  # ts included: the lookup reads only the index
    )
)

# When a snooze was asked for: with snoozed_until it gives the requested length, so a clock set
# back cannot stretch a snooze (NULL for snoozes from before this migration).
MIGRATIONS.append(Migration("alerts_0003_alerts_snoozed_at", sql=("ALTER TABLE alerts ADD COLUMN snoozed_at TEXT",)))

# The dashboard: the notifications about an alert (by check and time, engine/delivery/history.py)
# and a check's decisions newest first, paged (by check and id).
MIGRATIONS.append(
    Migration(
        "alerts_0004_dashboard_indexes",
        sql=("CREATE INDEX IF NOT EXISTS ix_notifications_check_created ON notifications (check_name, created_at)",
             "CREATE INDEX IF NOT EXISTS ix_heartbeat_log_check_id ON heartbeat_log (check_name, id)"),
    )
)

# The dashboard on a big history: a status strip reads only the index (check, start, outcome; it
# replaces the (check, start) index, its prefix), and a check's latest run is one seek by (check, id)
# where a GROUP BY over every run took 200 ms at a million runs (bench/dashboard.py).
MIGRATIONS.append(
    Migration(
        "alerts_0005_check_runs_covering_indexes",
        sql=("CREATE INDEX IF NOT EXISTS ix_check_runs_check_started_outcome ON check_runs (check_name, started_at,"
             " outcome)",
             "DROP INDEX IF EXISTS ix_check_runs_check_started",
             "CREATE INDEX IF NOT EXISTS ix_check_runs_check_id ON check_runs (check_name, id)"),
    )
)

# GET /metrics on a big history: the runs kept per (check, outcome), kept current by triggers on every
# insert, delete (retention) and outcome change, where a GROUP BY over every run took about 1 s at a
# million runs (bench/metrics.py). Filled once from the runs already there.
MIGRATIONS.append(
    Migration(
        "alerts_0006_check_run_totals",
        sql=("""CREATE TABLE IF NOT EXISTS check_run_totals (
                    check_name TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    runs INTEGER NOT NULL,
                    PRIMARY KEY (check_name, outcome)
                ) WITHOUT ROWID""",
             """INSERT OR REPLACE INTO check_run_totals (check_name, outcome, runs)
                SELECT check_name, outcome, count(*) FROM check_runs GROUP BY check_name, outcome""",
             """CREATE TRIGGER IF NOT EXISTS tr_check_run_totals_insert AFTER INSERT ON check_runs BEGIN
                    INSERT INTO check_run_totals (check_name, outcome, runs) VALUES (NEW.check_name, NEW.outcome, 1)
                    ON CONFLICT (check_name, outcome) DO UPDATE SET runs = runs + 1;
                END""",
             """CREATE TRIGGER IF NOT EXISTS tr_check_run_totals_delete AFTER DELETE ON check_runs BEGIN
                    UPDATE check_run_totals SET runs = runs - 1
                    WHERE check_name = OLD.check_name AND outcome = OLD.outcome;
                END""",
             """CREATE TRIGGER IF NOT EXISTS tr_check_run_totals_update AFTER UPDATE OF check_name, outcome
                ON check_runs BEGIN
                    UPDATE check_run_totals SET runs = runs - 1
                    WHERE check_name = OLD.check_name AND outcome = OLD.outcome;
                    INSERT INTO check_run_totals (check_name, outcome, runs) VALUES (NEW.check_name, NEW.outcome, 1)
                    ON CONFLICT (check_name, outcome) DO UPDATE SET runs = runs + 1;
                END"""),
    )
)
