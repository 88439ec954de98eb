"""The person's own data: job applications, goals (with domains, sub-goals, dependencies and progress
updates) and work sessions. This package owns those tables; every other unit reads and writes them
through its functions, and SQL naming them lives only here.

Schema: the tables were created by core migrations that landed before this package existed and that
existing databases record by name, so they stay where they are (``engine/store/schema.py``):

- ``core_0003_life_goals``: ``life_domains``, ``life_goals``, ``life_sub_goals``,
  ``life_goal_dependencies``, ``life_goal_metrics`` (the progress updates);
- ``core_0006_applications_work_sessions``: ``applications``, ``work_sessions``.

Future changes to these tables are migrations owned by this package: they go in ``MIGRATIONS``
below (named ``life_0001_…``), which the composition root registers after the core ones.

Modules: ``applications``, ``goals``, ``work_sessions`` (one per kind of record), ``paging``
(one page of rows with its total) and ``errors`` (:class:`LifeError`, the one exception of this
boundary). Rows are frozen dataclasses; times are the stored UTC text (``engine.timeutil.to_db``).
"""

from __future__ import annotations

from engine.store.migrations import Migration

MIGRATIONS: list[Migration] = []
