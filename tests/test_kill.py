"""A process killed with SIGKILL in the middle of multi-row user actions leaves each action
whole or not at all (SPEC 7), on SQLite and PostgreSQL."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
KILLS = 6


def _half_written(engine: Engine) -> dict[str, int]:
    """Rows that one action writes together, found without their partners."""
    checks = {
        "active contract without a follow-up": """
            SELECT count(*) FROM contract c WHERE c.status = 'aktiv'
            AND NOT EXISTS (SELECT 1 FROM followup f WHERE f.contract_id = c.id)""",
        "contract without its create audit": """
            SELECT count(*) FROM contract c WHERE NOT EXISTS (
              SELECT 1 FROM auditevent a WHERE a.entity = 'contract'
              AND a.entity_id = CAST(c.id AS VARCHAR(50)) AND a.action = 'create')""",
        "flagged check without its 'ny' event": """
            SELECT count(*) FROM invoicecheck i WHERE i.flagged
            AND NOT EXISTS (SELECT 1 FROM deviationevent e
              WHERE e.invoice_check_id = i.id AND e.new_status = 'ny')""",
        "goal of a follow-up that is not done": """
            SELECT count(*) FROM goal g JOIN followup f ON f.id = g.followup_id
            WHERE f.done_date IS NULL""",
        "done follow-up without its goal": """
            SELECT count(*) FROM followup f WHERE f.done_date IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM goal g WHERE g.followup_id = f.id)""",
        "done follow-up without the next one": """
            SELECT count(*) FROM followup f WHERE f.done_date IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM followup n
              WHERE n.contract_id = f.contract_id AND n.due_date > f.due_date)""",
        "need down without a renegotiation date": """
            SELECT count(*) FROM followup f JOIN contract c ON c.id = f.contract_id
            WHERE f.support_need_change = 'ned' AND c.renegotiation_date IS NULL""",
    }
    with engine.connect() as connection:
        found = {
            name: int(connection.execute(sa.text(sql)).scalar_one()) for name, sql in checks.items()
        }
        found["import not whole"] = _half_imports(connection)
    return found


def _half_imports(connection: sa.Connection) -> int:
    """Imports of invoice lines (file I-seed-n, checks I-seed-n-k) whose checks are not all
    there with their own audit events, or checks without their import."""
    imported = {
        entity_id: json.loads(changes)["created"][1]
        for entity_id, changes in connection.execute(
            sa.text("SELECT entity_id, changes FROM auditevent WHERE entity = 'import'")
        )
    }
    checks: dict[str, int] = {}
    for (number,) in connection.execute(
        sa.text("SELECT invoice_no FROM invoicecheck WHERE invoice_no LIKE 'I-%'")
    ):
        prefix = number.rsplit("-", 1)[0]
        checks[prefix] = checks.get(prefix, 0) + 1
    audited = int(
        connection.execute(
            sa.text(
                "SELECT count(*) FROM auditevent a JOIN invoicecheck i "
                "ON a.entity = 'invoicecheck' AND a.entity_id = CAST(i.id AS VARCHAR(50)) "
                "WHERE i.invoice_no LIKE 'I-%'"
            )
        ).scalar_one()
    )
    wrong = {p for p in imported.keys() | checks.keys() if imported.get(p) != checks.get(p)}
    return len(wrong) + (sum(checks.values()) - audited)


def test_sigkill_in_the_middle_of_actions_leaves_all_or_nothing(engine):
    url = engine.url.render_as_string(hide_password=False)
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    actions = 0
    for kill in range(KILLS):
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.kill_worker", url, str(kill)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None
        assert "ready" == worker.stdout.readline().strip(), worker.stderr.read()
        time.sleep(rng.uniform(0.3, 1.5))
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        assert -signal.SIGKILL == worker.returncode
        with engine.connect() as connection:
            actions = int(connection.execute(sa.text("SELECT count(*) FROM contract")).scalar())
        assert {} == {k: v for k, v in _half_written(engine).items() if v}, f"after kill {kill}"
    print(f"\nkill test ({engine.dialect.name}): {KILLS} kills, {actions} contracts written")
    assert actions > KILLS  # the worker got real work done between the kills
