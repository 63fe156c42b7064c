"""Small builders for test data, going through the real services."""

from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from models import Contract, Provider
from services.contracts import create_contract
from services.providers import create_provider

USER = "tester"


def make_provider(session: Session, **overrides: Any) -> Provider:
    data: dict[str, Any] = {
        "name": "Bostedet Testlund",
        "cvr": "10000009",
        "kind": "privat",
        "postal_code": "8000",
        "city": "Aarhus",
        # Test providers share the default CVR: its duplicate warning counts as confirmed
        # (tests of the warning pass `confirmed=[]`).
        "confirmed": ["cvr"],
    }
    data.update(overrides)
    return create_provider(session=session, data=data, user=USER)


def make_contract(session: Session, provider: Provider | None = None, **overrides: Any) -> Contract:
    provider = provider or make_provider(session)
    data: dict[str, Any] = {
        "case_ref": "SAG-2024-0001",
        "provider_id": provider.id,
        "paragraph": "SEL108",
        "start_date": date(2024, 3, 1),
        "price": Decimal("2000.00"),
        "price_unit": "dag",
        "price_base_date": date(2024, 3, 1),
        "regulation_kind": "fast_pct",
        "regulation_pct": Decimal("2.00"),
        "status": "aktiv",
    }
    data.update(overrides)
    return create_contract(session=session, data=data, user=USER)
