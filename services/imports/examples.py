"""Example files a newcomer can import while the demo data is in (SPEC 9, issue 12).

- The provider list: seed/examples/leverandoerliste.xlsx, a list of 40 providers with the traps
  real lists have (its rows are described in seed/examples/make_examples.py).
- A month of invoice lines for the demo's contracts: made from the database itself, since the
  demo's contracts and their prices follow the day it was seeded. One line per contract in
  force all of last month, for the amount its contract expects; every fifth a little above
  (flagged when it passes the tolerance), one below, and one credit note correcting the first
  flagged invoice. Written the way Danish Excel saves CSV: semicolons, UTF-8 with BOM.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from models import Contract, ContractStatus, Provider
from services.contracts import load_terms
from services.formatting import format_number
from services.rules.pricing import expected_amount

PROVIDER_EXAMPLE = (
    Path(__file__).resolve().parents[2] / "seed" / "examples" / "leverandoerliste.xlsx"
)
HEADER = "CVR;Sagsnummer;Fakturanummer;Periode fra;Periode til;Beløb;Krediterer faktura"


def last_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def contracts_in_force(
    session: Session, first: date, last: date
) -> list[tuple[Contract, str | None, str]]:
    """The contracts in force from `first` to `last`, with their provider's CVR and name."""
    return list(
        session.exec(
            select(Contract, Provider.cvr, Provider.name)
            .join(Provider, col(Provider.id) == Contract.provider_id)
            .where(
                col(Contract.status).in_([ContractStatus.ACTIVE, ContractStatus.TERMINATED]),
                Contract.start_date <= first,
                (col(Contract.end_date).is_(None)) | (col(Contract.end_date) >= last),
            )
            .order_by(col(Contract.case_ref), col(Contract.id))
        ).all()
    )


def expected_for(session: Session, contract: Contract, first: date, last: date) -> Decimal:
    """What the contract expects for the period (SPEC 4.2)."""
    terms, addons = load_terms(session=session, contract=contract)
    return expected_amount(
        terms=terms,
        period_from=first,
        period_to=last,
        contract_start=contract.start_date,
        contract_end=contract.end_date,
        addons=addons,
    ).total


def invoice_example(*, session: Session, today: date) -> bytes:
    """A CSV of last month's invoice lines for the contracts in force all that month."""
    first, last = last_month(today)
    lines = [HEADER]
    credited = False
    for number, (contract, cvr, _) in enumerate(contracts_in_force(session, first, last), start=1):
        expected = expected_for(session, contract, first, last)
        factor = Decimal("1.06") if number % 5 == 0 else Decimal(1)
        if number == 7:
            factor = Decimal("0.97")
        amount = (expected * factor).quantize(Decimal("0.01"))
        invoice_no = f"F-{first:%Y%m}-{number:03d}"
        period = f"{first:%d-%m-%Y};{last:%d-%m-%Y}"
        lines.append(f"{cvr or ''};{contract.case_ref};{invoice_no};{period};{_kr(amount)};")
        if factor > 1 and not credited:
            credited = True
            credit = (amount - expected).quantize(Decimal("0.01"))
            lines.append(
                f"{cvr or ''};{contract.case_ref};K{invoice_no};{period};-{_kr(credit)};"
                f"{invoice_no}"
            )
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _kr(amount: Decimal) -> str:
    return format_number(amount, 2)
