"""Every write service leaves exactly one audit event per record it changed, with the right
fields old → new and the user's name (SPEC 8), checked against the tables themselves
(tests.audit_check). The fuzz tests check the same on hostile input for the services they
drive; here every user action runs once, so none can be added without its audit."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from models import AppUser, AuditEvent, FollowUp, Goal, ProviderNote, Setting, TargetGroup
from services import (
    comparisons,
    contracts,
    followups,
    invoices,
    providers,
    reference,
    settings,
    target_groups,
    users,
)
from services.demo_data import remove_demo_data
from services.einvoice.batch import BatchFile, save_einvoices
from services.einvoice.matching import match_einvoice
from services.einvoice.reader import EInvoice
from services.errors import InputError
from services.imports.contracts import import_contracts
from services.imports.invoices import import_invoices
from services.imports.offers import import_offers
from services.imports.providers import import_providers
from services.imports.reading import read_csv
from services.rules.roles import WRITE_CAPABILITY
from services.unit_of_work import unit_of_work
from tests.audit_check import audited
from tests.test_einvoice_matching import _einvoice as einvoice
from tests.test_fuzz_services import TODAY, World, world  # noqa: F401

WHO = "Revisor Rie"
APRIL_2026 = (date(2026, 4, 1), date(2026, 4, 30))
Scenario = Callable[[Session, dict[str, int]], Any]


def _version(session: Session, table: type, row_id: int) -> int:
    return session.get(table, row_id).version  # type: ignore[attr-defined, no-any-return]


def _as_form(row: Any, **changes: Any) -> dict[str, Any]:
    """A stored row as the form a user edits it in, with some fields changed."""
    return {**row.model_dump(exclude={"id", "created_at", "updated_at"}), **changes}


def _note(s: Session, ids: dict[str, int]) -> ProviderNote:
    return providers.add_provider_note(
        session=s,
        data={
            "provider_id": ids["provider"],
            "note_date": date(2026, 5, 1),
            "author": WHO,
            "topic": "andet",
            "text": "Godt samarbejde om indflytningen",
        },
        user=WHO,
    )


def _followup(s: Session, ids: dict[str, int]) -> FollowUp:
    return s.exec(
        select(FollowUp).where(FollowUp.contract_id == ids["contract"], FollowUp.done_date == None)  # noqa: E711
    ).one()


def _group(s: Session, name: str) -> TargetGroup:
    return s.exec(select(TargetGroup).where(TargetGroup.name == name)).one()


def _import_providers(s: Session, lines: list[str]) -> Any:
    table, _, _ = read_csv(("\n".join(lines) + "\n").encode())
    return import_providers(
        session=s,
        headers=table.headers,
        rows=table.rows,
        file_name="liste.csv",
        user=WHO,
        update_existing=True,
    )


def _import(s: Session, service: Any, lines: list[str], **extra: Any) -> Any:
    table, _, _ = read_csv(("\n".join(lines) + "\n").encode())
    return service(
        session=s,
        headers=table.headers,
        rows=table.rows,
        file_name="fil.csv",
        user=WHO,
        **extra,
    )


def _einvoices(s: Session, *invoices: EInvoice) -> list[BatchFile]:
    return [
        BatchFile(n, f"{n}.xml", invoice, match_einvoice(session=s, invoice=invoice))
        for n, invoice in enumerate(invoices, start=1)
    ]


def _signed_in(s: Session) -> AppUser:
    users.sign_in(session=s, claims={"sub": "abc-1", "name": "Ada Admin", "roles": ["admin"]})
    return s.exec(select(AppUser)).one()


ADDON = {
    "name": "Ledsagelse",
    "price": "1.200,00",
    "unit": "maaned",
    "valid_from": date(2026, 1, 1),
}
CONTRACT = {
    "case_ref": "SAG-2026-0100",
    "paragraph": "SEL108",
    "start_date": date(2026, 2, 1),
    "price": "2.100,00",
    "price_unit": "dag",
    "price_base_date": date(2026, 2, 1),
    "regulation_kind": "fast_pct",
    "regulation_pct": "2,00",
    "status": "aktiv",
}

# Each user action: what to prepare (not audited here) and the write under test.
SCENARIOS: dict[str, tuple[Scenario | None, Scenario]] = {
    "services.providers.create_provider": (
        None,
        lambda s, ids: providers.create_provider(
            session=s,
            data={"name": "Bo Nord", "cvr": "12345674", "kind": "privat", "confirmed": ["cvr"]},
            user=WHO,
        ),
    ),
    "services.providers.update_provider": (
        None,
        lambda s, ids: providers.update_provider(
            session=s,
            provider_id=ids["provider"],
            data=_as_form(
                s.get(providers.Provider, ids["provider"]),
                city="Randers",
                quality_rating=4,
                confirmed=["cvr"],
            ),
            user=WHO,
        ),
    ),
    "services.providers.add_provider_note": (None, _note),
    "services.providers.void_provider_note": (
        lambda s, ids: ids.update(note=_note(s, ids).id),
        lambda s, ids: providers.void_provider_note(
            session=s,
            note_id=ids["note"],
            data={"reason": "Skrevet på forkert leverandør", "version": 1},
            user=WHO,
        ),
    ),
    "services.providers.create_offer": (
        None,
        lambda s, ids: providers.create_offer(
            session=s,
            data={
                "provider_id": ids["provider"],
                "name": "Åhuset",
                "paragraph": "SEL107",
                "negotiated_rate": "1.900,00",
                "negotiated_from": date(2026, 1, 1),
                "target_group_ids": [_group(s, "Udviklingshæmning").id],
            },
            user=WHO,
        ),
    ),
    "services.providers.update_offer": (
        None,
        lambda s, ids: providers.update_offer(
            session=s,
            offer_id=ids["offer"],
            data={
                "provider_id": ids["provider"],
                "name": "Huset ved Åen",
                "paragraph": "SEL108",
                "list_rate": "1.900,00",
                "list_rate_year": 2026,
                "places": 12,
                "target_group_ids": [_group(s, "Udviklingshæmning").id],
                "version": _version(s, providers.Offer, ids["offer"]),
            },
            user=WHO,
        ),
    ),
    "services.comparisons.save_comparison": (
        lambda s, ids: ids.update(
            other=providers.create_offer(
                session=s,
                data={"provider_id": ids["provider"], "name": "Åhuset", "paragraph": "SEL108"},
                user=WHO,
            ).id
        ),
        lambda s, ids: comparisons.save_comparison(
            session=s,
            data={
                "offer_ids": [ids["offer"], ids["other"]],
                "start_date": date(2027, 1, 1),
                "visited_id": ids["offer"],
                "weights": {k: str(v) for k, v in settings.AppSettings().weights.items()},
                "scores": {str(ids["other"]): {"geography": "7"}},
                "case_ref": "SAG-2026-0007",
            },
            user=WHO,
        ),
    ),
    "services.imports.providers.import_providers": (
        None,
        # A new provider and the world's one updated: two records, and the import's own event.
        lambda s, ids: _import_providers(
            s,
            [
                "CVR;Navn;Type;By",
                "12345674;Bo Nord;Privat;Aalborg",
                "10000009;Bostedet Testlund;Privat;Randers",
            ],
        ),
    ),
    "services.imports.offers.import_offers": (
        None,
        # A new offer and the world's one updated (rate and target groups): two records.
        lambda s, ids: _import(
            s,
            import_offers,
            [
                "CVR;Tilbud;Paragraf;Målgrupper;Listetakst;Takstår",
                "10000009;Åhuset;§107;Udviklingshæmning;1.700,00;2026",
                "10000009;Huset ved Åen;§108;udviklingshæmning;1.900,00;2026",
            ],
            update_existing=True,
        ),
    ),
    "services.imports.contracts.import_contracts": (
        None,
        # A new contract with its add-on (and first follow-up), and the world's contract
        # updated with its add-on's new price: five records, and the import's own event.
        lambda s, ids: _import(
            s,
            import_contracts,
            [
                "Sagsnummer;CVR;Tilbud;Paragraf;Startdato;Pris;Opsigelsesvarsel (dage);"
                "Tillæg;Tillæg pris",
                "SAG-2026-0200;10000009;;§107;01-02-2026;2.100,00;90;Ledsagelse;1.200,00",
                "SAG-2024-0001;10000009;Huset ved Åen;§108;01-03-2024;2.000,00;120;"
                "Ekstra støtte;5.500,00",
            ],
            update_existing=True,
        ),
    ),
    "services.imports.invoices.import_invoices": (
        None,
        # An invoice and a credit note correcting it: two checks, and the import's own event.
        lambda s, ids: _import(
            s,
            import_invoices,
            [
                "Sagsnummer;Fakturanummer;Periode fra;Periode til;Beløb",
                "SAG-2024-0001;F-9;01-04-2026;30-04-2026;70.000,00",
                "SAG-2024-0001;F-9K;01-04-2026;30-04-2026;-5.000,00",
            ],
            today=TODAY,
        ),
    ),
    "services.einvoice.batch.save_einvoices": (
        None,
        # An e-invoice and a credit note reducing it: two checks, and the upload's own event.
        lambda s, ids: save_einvoices(
            session=s,
            files=_einvoices(
                s,
                einvoice(contract_ref="SAG-2024-0001", period=APRIL_2026),
                einvoice(credit_note=True, amount="500.00", period=APRIL_2026, number="K-1"),
            ),
            user=WHO,
            today=TODAY,
        ),
    ),
    "services.contracts.create_contract": (
        None,
        lambda s, ids: contracts.create_contract(
            session=s, data={**CONTRACT, "provider_id": ids["provider"]}, user=WHO
        ),
    ),
    "services.contracts.update_contract": (
        None,
        lambda s, ids: contracts.update_contract(
            session=s,
            contract_id=ids["c2"],
            data=_as_form(
                s.get(contracts.Contract, ids["c2"]), notice_days=90, end_date=date(2027, 6, 30)
            ),
            user=WHO,
        ),
    ),
    "services.contracts.add_addon": (
        None,
        lambda s, ids: contracts.add_addon(
            session=s, data={**ADDON, "contract_id": ids["contract"]}, user=WHO
        ),
    ),
    "services.contracts.update_addon": (
        None,
        lambda s, ids: contracts.update_addon(
            session=s,
            addon_id=ids["addon"],
            data={
                "contract_id": ids["contract"],
                "name": "Ekstra støtte",
                "price": "5.500,00",
                "unit": "maaned",
                "valid_from": date(2024, 3, 1),
                "valid_to": date(2026, 12, 31),
                "version": _version(s, contracts.ContractAddon, ids["addon"]),
            },
            user=WHO,
        ),
    ),
    "services.contracts.void_addon": (
        None,
        lambda s, ids: contracts.void_addon(
            session=s,
            addon_id=ids["addon"],
            data={
                "reason": "Registreret på forkert kontrakt",
                "version": _version(s, contracts.ContractAddon, ids["addon"]),
            },
            user=WHO,
        ),
    ),
    "services.contracts.register_price_change": (
        lambda s, ids: contracts.register_price_change(
            session=s,
            contract_id=ids["contract"],
            data={
                "effective_date": date(2025, 9, 1),
                "new_price": "2.200,00",
                "reason": "genforhandling",
            },
            user=WHO,
        ),
        # A change before the one prepared: that one's "old price" moves too (two records).
        lambda s, ids: contracts.register_price_change(
            session=s,
            contract_id=ids["contract"],
            data={"effective_date": date(2025, 3, 1), "new_price": "2.150,00"},
            user=WHO,
        ),
    ),
    "services.contracts.void_price_change": (
        lambda s, ids: ids.update(
            change=contracts.register_price_change(
                session=s,
                contract_id=ids["contract"],
                data={"effective_date": date(2025, 9, 1), "new_price": "2.200,00"},
                user=WHO,
            ).id
        ),
        lambda s, ids: contracts.void_price_change(
            session=s,
            price_change_id=ids["change"],
            data={"reason": "Forkert dato", "version": 1},
            user=WHO,
        ),
    ),
    "services.contracts.delete_draft_contract": (
        lambda s, ids: (
            ids.update(
                draft=contracts.create_contract(
                    session=s,
                    data={**CONTRACT, "status": "kladde", "provider_id": ids["provider"]},
                    user=WHO,
                ).id
            )
            or contracts.add_addon(session=s, data={**ADDON, "contract_id": ids["draft"]}, user=WHO)
            and followups.plan_followup(
                session=s,
                data={"contract_id": ids["draft"], "due_date": date(2026, 6, 1)},
                user=WHO,
            )
        ),
        lambda s, ids: contracts.delete_draft_contract(
            session=s,
            contract_id=ids["draft"],
            data={"version": _version(s, contracts.Contract, ids["draft"])},
            user=WHO,
        ),
    ),
    "services.invoices.check_invoice": (
        None,
        lambda s, ids: invoices.check_invoice(
            session=s,
            data={
                "contract_id": ids["contract"],
                "invoice_no": "F-2",
                "period_from": date(2026, 4, 1),
                "period_to": date(2026, 4, 30),
                "invoiced": "70.000,00",
            },
            user=WHO,
            today=TODAY,
        ),
    ),
    "services.invoices.register_credit_note": (
        None,
        lambda s, ids: invoices.register_credit_note(
            session=s,
            data={
                "contract_id": ids["contract"],
                "credits_id": ids["check"],
                "invoice_no": "K-1",
                "invoiced": "-5.000,00",
            },
            user=WHO,
            today=TODAY,
        ),
    ),
    "services.invoices.void_invoice_check": (
        None,
        lambda s, ids: invoices.void_invoice_check(
            session=s,
            check_id=ids["check"],
            data={
                "reason": "Faktura registreret to gange",
                "version": _version(s, invoices.InvoiceCheck, ids["check"]),
            },
            user=WHO,
        ),
    ),
    "services.invoices.update_deviation": (
        None,
        lambda s, ids: invoices.update_deviation(
            session=s,
            check_id=ids["check"],
            data={
                "status": "leverandoer_kontaktet",
                "assignee": "Kim",
                "note": "Leverandøren er kontaktet",
                "version": _version(s, invoices.InvoiceCheck, ids["check"]),
            },
            user=WHO,
            today=TODAY,
        ),
    ),
    "services.followups.plan_followup": (
        None,
        lambda s, ids: followups.plan_followup(
            session=s,
            data={"contract_id": ids["c2"], "due_date": date(2026, 9, 1), "assignee": "Kim"},
            user=WHO,
        ),
    ),
    "services.followups.assign_followup": (
        None,
        lambda s, ids: followups.assign_followup(
            session=s,
            followup_id=(f := _followup(s, ids)).id,
            data={"assignee": "Kim", "version": f.version},
            user=WHO,
        ),
    ),
    "services.followups.record_followup": (
        None,
        # The follow-up, its new goal and the next follow-up: three records.
        lambda s, ids: followups.record_followup(
            session=s,
            followup_id=(f := _followup(s, ids)).id,
            data={
                "done_date": date(2026, 6, 2),
                "done_by": "Mette",
                "progression": "fremgang",
                "support_need_change": "uaendret",
                "action": "fortsaet",
                "version": f.version,
            },
            goals=[{"theme": "Samfundsliv", "text": "Går selv til fritidsklubben hver uge"}],
            user=WHO,
            today=TODAY,
        ),
    ),
    "services.followups.update_goal": (
        None,
        lambda s, ids: followups.update_goal(
            session=s,
            goal_id=ids["goal"],
            data={
                "theme": "Egenomsorg",
                "text": "Tager selv medicin morgen, middag og aften",
                "status": "opnaaet",
                "version": _version(s, Goal, ids["goal"]),
            },
            user=WHO,
        ),
    ),
    "services.reference.create_price_category_set": (
        None,
        lambda s, ids: reference.create_price_category_set(
            session=s,
            data={
                "paragraph": "SEL107",
                "year": 2026,
                "middel_from": "1600",
                "hoej_from": "2600",
                "ekstraordinaer_from": "4100",
            },
            user=WHO,
        ),
    ),
    "services.reference.update_price_category_set": (
        None,
        lambda s, ids: reference.update_price_category_set(
            session=s,
            set_id=ids["set"],
            data={
                "paragraph": "SEL108",
                "year": 2026,
                "middel_from": "1550",
                "hoej_from": "2500",
                "ekstraordinaer_from": "4000",
                "version": _version(s, reference.PriceCategorySet, ids["set"]),
            },
            user=WHO,
        ),
    ),
    "services.reference.copy_price_category_year": (
        None,
        lambda s, ids: reference.copy_price_category_year(
            session=s, from_year=2026, to_year=2027, rate_pct=Decimal("2.5"), user=WHO
        ),
    ),
    "services.reference.save_budget": (
        None,
        lambda s, ids: reference.save_budget(
            session=s, data={"year": 2026, "paragraph": "SEL108", "amount": "52000000"}, user=WHO
        ),
    ),
    "services.reference.save_regulation_rate": (
        None,
        lambda s, ids: reference.save_regulation_rate(
            session=s, data={"year": 2027, "percent": "2,1"}, user=WHO
        ),
    ),
    "services.settings.update_settings": (
        None,
        lambda s, ids: settings.update_settings(
            session=s, values={"tolerance_kr": "5", "tolerance_pct": "0,5"}, user=WHO
        ),
    ),
    "services.settings.ensure_default_settings": (
        lambda s, ids: (
            s.execute(sa.delete(Setting).where(Setting.key == "tolerance_kr")) and s.commit()
        ),
        lambda s, ids: settings.ensure_default_settings(session=s, user=WHO),
    ),
    "services.target_groups.create_target_group": (
        None,
        lambda s, ids: target_groups.create_target_group(
            session=s, data={"name": "Sindslidelse"}, user=WHO
        ),
    ),
    "services.target_groups.update_target_group": (
        None,
        lambda s, ids: target_groups.update_target_group(
            session=s,
            target_group_id=(g := _group(s, "Autisme")).id,
            data={"name": "Autismespektrum", "active": True, "version": g.version},
            user=WHO,
        ),
    ),
    "services.target_groups.merge_target_groups": (
        None,
        lambda s, ids: target_groups.merge_target_groups(
            session=s,
            data={
                "merge_id": (g := _group(s, "Autisme")).id,
                "into_id": _group(s, "Udviklingshæmning").id,
                "version": g.version,
            },
            user=WHO,
        ),
    ),
    "services.users.sign_in": (
        None,
        lambda s, ids: users.sign_in(
            session=s,
            claims={"sub": "abc-2", "name": WHO, "email": "rie@kommune.dk", "roles": ["laeser"]},
        ),
    ),
    "services.users.set_user_access": (
        lambda s, ids: ids.update(admin=_signed_in(s).id),
        lambda s, ids: users.set_user_access(
            session=s,
            user_id=ids["admin"],
            data={
                "assigned_role": "koordinator",
                "active": True,
                "version": _version(s, AppUser, ids["admin"]),
            },
            user=WHO,
        ),
    ),
}


def test_every_user_action_has_a_scenario():
    assert set(SCENARIOS) | {"services.demo_data.remove_demo_data"} == set(WRITE_CAPABILITY)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_one_audit_event_per_changed_record(engine, world, name):  # noqa: F811
    prepare, write = SCENARIOS[name]
    ids = dict(world.ids)
    if prepare is not None:
        with Session(engine) as s:
            prepare(s, ids)
    with audited(engine, WHO), Session(engine) as s:
        write(s, ids)


def test_removing_demo_data_is_one_event_for_what_went_by_sql(engine, world):  # noqa: F811
    with Session(engine) as s:
        s.execute(sa.update(providers.Provider).values(is_demo=True))
        s.commit()

    def one_event(events: list[AuditEvent]) -> None:
        assert [("demo", "*", "delete", WHO)] == [
            (e.entity, e.entity_id, e.action, e.who) for e in events
        ]
        assert '"providers": [1, 0]' in events[0].changes

    with audited(engine, WHO, expect=one_event), Session(engine) as s:
        assert 1 == remove_demo_data(session=s, user=WHO)


def test_a_failed_save_leaves_no_event(engine, world):  # noqa: F811
    with Session(engine) as s:
        before = s.exec(select(sa.func.count()).select_from(AuditEvent)).one()
        with pytest.raises(InputError), unit_of_work(s):
            _note(s, world.ids)  # flushed, its event waiting for the commit
            providers.create_provider(session=s, data={"name": "", "kind": "privat"}, user=WHO)
    with Session(engine) as s:
        after = s.exec(select(sa.func.count()).select_from(AuditEvent)).one()
        assert [] == s.exec(select(ProviderNote)).all()
    assert before == after
