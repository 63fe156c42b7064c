"""A writer for the kill test (tests/test_kill.py): runs multi-row user actions in a loop
until it is killed. `python -m tests.kill_worker DATABASE_URL SEED`."""

import contextlib
import random
import sys
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, select

from models import Contract, FollowUp
from services.contracts import create_contract
from services.db import get_engine
from services.errors import UserError
from services.followups import record_followup
from services.imports.invoices import import_invoices
from services.imports.reading import read_csv
from services.invoices import check_invoice
from services.price_timeline import keep_prices_current
from services.providers import create_provider


def main(url: str, seed: int) -> None:
    keep_prices_current()
    engine = get_engine(url)
    rng = random.Random(seed)
    with Session(engine) as session:
        provider = create_provider(
            session=session,
            # Every worker's provider has the same CVR: confirmed, as a user would.
            data={
                "name": f"Bostedet {seed}",
                "cvr": "10000009",
                "kind": "privat",
                "confirmed": ["cvr"],
            },
            user="kill",
        )
        provider_id = provider.id
    n = 0
    print("ready", flush=True)
    while True:
        n += 1
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(300))
        with Session(engine) as session:
            contract = create_contract(  # contract + first follow-up + audit + price periods
                session=session,
                data={
                    "case_ref": f"K-{seed}-{n}",
                    "provider_id": provider_id,
                    "paragraph": "SEL108",
                    "start_date": start,
                    "price": Decimal("2000.00"),
                    "price_unit": "dag",
                    "status": "aktiv",
                },
                user="kill",
            )
            contract_id = contract.id
        with Session(engine) as session:
            check_invoice(  # a flagged check + its "ny" event + audit
                session=session,
                data={
                    "contract_id": contract_id,
                    "invoice_no": f"F-{seed}-{n}",
                    "period_from": date(2025, 3, 1),
                    "period_to": date(2025, 3, 31),
                    "invoiced": Decimal("99000.00"),
                },
                user="kill",
                today=date(2025, 4, 10),
            )
        lines = ["Sagsnummer;Fakturanummer;Periode fra;Periode til;Beløb"] + [
            f"K-{seed}-{n};I-{seed}-{n}-{k};01-03-2025;31-03-2025;6{k % 10}.000,00"
            for k in range(400)
        ]
        table, _, _ = read_csv(("\n".join(lines) + "\n").encode())
        with Session(engine) as session:
            import_invoices(  # 400 checks + their events + the import's own event
                session=session,
                headers=table.headers,
                rows=table.rows,
                file_name=f"I-{seed}-{n}",
                user="kill",
                today=date(2025, 4, 10),
            )
        with Session(engine) as session:
            followup = session.exec(
                select(FollowUp).where(FollowUp.contract_id == contract_id)
            ).first()
            contract = session.get(Contract, contract_id)
            assert followup is not None and contract is not None
            with contextlib.suppress(UserError):  # e.g. a follow-up due after the end
                record_followup(  # outcome + goal + next follow-up + contract + audit
                    session=session,
                    followup_id=followup.id,
                    data={
                        "done_date": followup.due_date,
                        "done_by": "kill",
                        "kind": "moede",
                        "progression": "fremgang",
                        "support_need_change": "ned",
                        "action": "fortsaet",
                        "version": followup.version,
                    },
                    goals=[
                        {
                            "theme": "Egenomsorg",
                            "goal_type": "udvikle",
                            "text": "Et mål",
                            "measure": "Ugentligt",
                            "deadline": followup.due_date + timedelta(days=90),
                        }
                    ],
                    user="kill",
                    today=followup.due_date,
                )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
