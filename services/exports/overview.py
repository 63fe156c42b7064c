"""Overblik as an Excel workbook: its key figures, provider spend, distributions and alerts."""

from decimal import Decimal

import pandas as pd

from services.exports.tables import Sheet, to_xlsx
from services.formatting import format_date
from services.queries.overview import Overview, threshold_text


def overview_key_figures(data: Overview) -> pd.DataFrame:
    """The key figures of Overblik as a table: one row each, the value in the column of its
    kind (amount, count or percent), so a workbook can format every column one way."""
    shot = data.snapshot
    p = shot.portfolio
    year = data.year
    threshold = threshold_text(shot.large_case_threshold)
    rows: list[tuple[str, Decimal | int | None, str]] = [
        ("Aktive kontrakter", p.active_contracts, "antal"),
        ("Forventet årsudgift", p.annual_spend, "kr"),
        ("Gns. årsudgift pr. sag", p.average_per_case, "kr"),
        (f"Sager over {threshold} om året", p.large_cases, "antal"),
        (f"Faktureret {year} til dato", shot.invoiced_ytd, "kr"),
        (f"Budget {year}", shot.budget, "kr"),
        ("Forventet udgift resten af året", shot.expected_rest, "kr"),
        ("Forventet årsresultat", shot.expected_year_end, "kr"),
        ("Forbrug af budget", shot.budget_used, "pct"),
        ("Leverandører", shot.providers_total, "antal"),
        ("Leverandører i brug", p.providers_used, "antal"),
        ("De 5 største leverandørers andel (12 mdr.)", shot.top5_share, "pct"),
        ("Egen drift, kontrakter", p.own_contracts, "antal"),
        ("Egen drift, andel af årsudgift", p.own_share, "pct"),
        ("Åbne fakturaafvigelser", shot.open_deviations, "antal"),
        ("Åbne afvigelser, beløb", shot.open_deviation_amount, "kr"),
        ("Opfølgninger med forfald (12 mdr.)", shot.followups_due, "antal"),
        ("Opfølgninger udført til tiden (12 mdr.)", shot.followups_on_time, "antal"),
        ("Opfølgninger til tiden (12 mdr.)", shot.on_time_share, "pct"),
        ("Overskredne opfølgninger", shot.overdue_followups, "antal"),
        ("Standardkontrakter", shot.quality.standard_share, "pct"),
        ("Tjekliste udfyldt", shot.quality.checklist_completeness, "pct"),
        (f"Sparet ved genforhandling {year}", shot.savings_ytd, "kr"),
    ]
    return pd.DataFrame(
        [
            {
                "Nøgletal": name,
                "Beløb (kr.)": value if kind == "kr" else None,
                "Antal": value if kind == "antal" else None,
                "Procent": value if kind == "pct" else None,
            }
            for name, value, kind in rows
        ],
        columns=["Nøgletal", "Beløb (kr.)", "Antal", "Procent"],
    )


def overview_workbook(data: Overview, alerts: pd.DataFrame) -> bytes:
    """Overblik's key figures, provider spend, distributions and the alert list
    (contract_alert_list's rows) as an Excel workbook."""
    shot = data.snapshot
    p = shot.portfolio
    stamp = f"Opgjort pr. {format_date(data.as_of)}"
    distribution = [
        ("Paragraf", p.by_paragraph),
        ("Leverandørtype", p.by_kind),
        ("Priskategori", p.by_category),
    ]
    sheets = [
        Sheet(
            "Nøgletal",
            overview_key_figures(data),
            money=["Beløb (kr.)"],
            ints=["Antal"],
            pct=["Procent"],
            title=f"Overblik {data.year}",
            notes=(stamp,),
        ),
        Sheet(
            "Leverandører 12 mdr.",
            shot.provider_spend.drop(columns="provider_id"),
            money=["Faktureret"],
            pct=["Andel"],
            title="Faktureret pr. leverandør, seneste 12 måneder",
            notes=(stamp,),
        ),
        *[
            Sheet(
                f"Fordeling {name.lower()}",
                frame.drop(columns="code"),
                money=["Årsudgift"],
                ints=["Kontrakter"],
                title=f"Aktive kontrakter fordelt på {name.lower()}",
                notes=(stamp,),
            )
            for name, frame in distribution
        ],
        Sheet(
            "Dyreste sager",
            shot.expensive_cases.drop(columns="contract_id"),
            money=["Dagstakst", "Årsudgift"],
            title="De 10 dyreste aktive sager",
            notes=(stamp,),
        ),
        Sheet(
            "Varsler",
            alerts[["Sag", "Leverandør", "Paragraf", "Varsler", "Frist"]],
            dates=["Frist"],
            title="Kontrakter med varsler, mest presserende først",
            notes=(f"Opgjort pr. {format_date(data.today)}",),
        ),
    ]
    return to_xlsx(sheets)
