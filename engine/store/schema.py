"""The core schema: the original twelve tables plus what the engine itself needs.

Times are UTC ISO-8601 text (engine.timeutil.to_db). Units add their own tables through their
own migration lists (engine/*/schema.py); nothing here is ever dropped or rebuilt.
"""

from __future__ import annotations

from engine.store.migrations import Migration

CORE_MIGRATIONS: list[Migration] = [
    Migration(
        "core_0001_daemon_state",
        sql=(
            """CREATE TABLE IF NOT EXISTS daemon_state (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                pid INTEGER NOT NULL,
                create_time REAL,
                version TEXT NOT NULL,
                hostname TEXT,
                started_at TEXT NOT NULL,
                last_beat_at TEXT,
                stopped_at TEXT,
                clean_shutdown INTEGER NOT NULL DEFAULT 0,
                stop_reason TEXT
            )""",
        ),
    ),
    Migration(
        "core_0002_conversation_archive",
        sql=(
            """CREATE TABLE IF NOT EXISTS conversation_archive_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                status TEXT NOT NULL DEFAULT 'running',
                trigger TEXT,
                files_seen INTEGER NOT NULL DEFAULT 0,
                files_parsed INTEGER NOT NULL DEFAULT 0,
                files_skipped INTEGER NOT NULL DEFAULT 0,
                bytes_read INTEGER NOT NULL DEFAULT 0,
                sessions_new INTEGER NOT NULL DEFAULT 0,
                sessions_updated INTEGER NOT NULL DEFAULT 0,
                bad_lines INTEGER NOT NULL DEFAULT 0,
                duration_s REAL,
                error TEXT
            )""",
            """CREATE TABLE IF NOT EXISTS conversation_archive_sessions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session_id TEXT NOT NULL UNIQUE,
                source TEXT NOT NULL,
                parent_session_id TEXT,
                project TEXT,
                cwd TEXT,
                git_branch TEXT,
                cli_version TEXT,
                first_ts TEXT,
                last_ts TEXT,
                human_prompts INTEGER NOT NULL DEFAULT 0,
                api_responses INTEGER NOT NULL DEFAULT 0,
                tool_calls INTEGER NOT NULL DEFAULT 0,
                tool_results INTEGER NOT NULL DEFAULT 0,
                tool_errors INTEGER NOT NULL DEFAULT 0,
                subagents INTEGER NOT NULL DEFAULT 0,
                input_tokens INTEGER NOT NULL DEFAULT 0,
                output_tokens INTEGER NOT NULL DEFAULT 0,
                cache_read_tokens INTEGER NOT NULL DEFAULT 0,
                cache_creation_tokens INTEGER NOT NULL DEFAULT 0,
                title TEXT,
                summary TEXT,
                content_hash TEXT,
                archived_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        "core_0003_life_goals",
        sql=(
            """CREATE TABLE IF NOT EXISTS life_domains (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                description TEXT,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS life_goals (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                domain_id INTEGER REFERENCES life_domains(id) ON DELETE SET NULL,
                title TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'active',
                target_date TEXT,
                created_at TEXT NOT NULL,
                last_progress_at TEXT
            )""",
            """CREATE TABLE IF NOT EXISTS life_sub_goals (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                goal_id INTEGER NOT NULL REFERENCES life_goals(id) ON DELETE CASCADE,
                title TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'open',
                created_at TEXT NOT NULL,
                done_at TEXT
            )""",
            """CREATE TABLE IF NOT EXISTS life_goal_dependencies (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                goal_id INTEGER NOT NULL REFERENCES life_goals(id) ON DELETE CASCADE,
                depends_on_goal_id INTEGER NOT NULL REFERENCES life_goals(id) ON DELETE CASCADE,
                UNIQUE (goal_id, depends_on_goal_id)
            )""",
            """CREATE TABLE IF NOT EXISTS life_goal_metrics (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                goal_id INTEGER NOT NULL REFERENCES life_goals(id) ON DELETE CASCADE,
                ts TEXT NOT NULL,
                value REAL,
                note TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_goal_metrics_goal_ts ON life_goal_metrics (goal_id, ts)",
        ),
    ),
    Migration(
        "core_0004_heartbeat_log",
        sql=(
            """CREATE TABLE IF NOT EXISTS heartbeat_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                check_name TEXT NOT NULL,
                ts TEXT NOT NULL,
                decision TEXT NOT NULL,
                reason TEXT NOT NULL,
                subjects INTEGER NOT NULL DEFAULT 0,
                notification_id INTEGER
            )""",
            # The cooldown lookup: latest SENT for a check.
            "CREATE INDEX IF NOT EXISTS ix_heartbeat_log_check_decision_ts"
            " ON heartbeat_log (check_name, decision, ts)",
            "CREATE INDEX IF NOT EXISTS ix_heartbeat_log_ts ON heartbeat_log (ts)",
        ),
    ),
    Migration(
        "core_0005_events_onboarding_personality",
        sql=(
            """CREATE TABLE IF NOT EXISTS discovered_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                ts TEXT NOT NULL,
                source TEXT NOT NULL,
                kind TEXT NOT NULL,
                subject TEXT,
                severity TEXT NOT NULL DEFAULT 'info',
                detail TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_discovered_events_ts ON discovered_events (ts)",
            """CREATE TABLE IF NOT EXISTS onboarding_state (
                key TEXT PRIMARY KEY,
                value TEXT,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS personality_config (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
        ),
    ),
    Migration(
        "core_0006_applications_work_sessions",
        sql=(
            """CREATE TABLE IF NOT EXISTS applications (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                company TEXT NOT NULL,
                role TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'applied',
                applied_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                url TEXT,
                notes TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_applications_status ON applications (status, applied_at)",
            """CREATE TABLE IF NOT EXISTS work_sessions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                source TEXT NOT NULL DEFAULT 'manual',
                external_id TEXT UNIQUE,
                cwd TEXT,
                started_at TEXT NOT NULL,
                last_activity_at TEXT NOT NULL,
                ended_at TEXT,
                status TEXT NOT NULL DEFAULT 'active',
                interrupted_reason TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_work_sessions_status ON work_sessions (status)",
        ),
    ),
    Migration(
        "core_0007_job_runs_and_gaps",
        sql=(
            """CREATE TABLE IF NOT EXISTS job_runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                job TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                outcome TEXT NOT NULL,
                error TEXT,
                trigger TEXT
            )""",
            "CREATE INDEX IF NOT EXISTS ix_job_runs_job_started ON job_runs (job, started_at)",
            """CREATE TABLE IF NOT EXISTS heartbeat_gaps (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                start TEXT NOT NULL,
                end TEXT NOT NULL,
                kind TEXT NOT NULL,
                seconds REAL NOT NULL,
                detected_at TEXT NOT NULL,
                UNIQUE (start, kind)
            )""",
            "CREATE INDEX IF NOT EXISTS ix_heartbeat_gaps_end ON heartbeat_gaps (end)",
        ),
    ),
]

CORE_MIGRATIONS.append(
    Migration(
        "core_0008_runtime_state",
        sql=(
            """CREATE TABLE IF NOT EXISTS runtime_state (
                key TEXT PRIMARY KEY,
                value TEXT,
                updated_at TEXT NOT NULL
            )""",
        ),
    )
)
