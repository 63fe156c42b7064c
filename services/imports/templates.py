"""The template an import kind offers for download: an .xlsx file with the Danish headers and
an example row on the first sheet, and a sheet that explains every column."""

from collections.abc import Sequence

import pandas as pd

from services.exports.tables import Sheet, to_xlsx
from services.imports.columns import Column


def template_workbook(columns: Sequence[Column], kind_name: str) -> bytes:
    data = pd.DataFrame([[c.example for c in columns]], columns=[c.header for c in columns])
    explained = pd.DataFrame(
        {
            "Kolonne": [c.header for c in columns],
            "Skal udfyldes": ["Ja" if c.required else "Nej" for c in columns],
            "Forklaring": [c.explanation for c in columns],
            "Andre navne, der genkendes": [", ".join(c.aliases) for c in columns],
        }
    )
    return to_xlsx(
        [
            Sheet(kind_name, data),
            Sheet(
                "Forklaring",
                explained,
                title=f"Skabelon: {kind_name}",
                notes=[
                    "Slet eksempelrækken, og skriv én række pr. post. Kolonnernes rækkefølge "
                    "er ligegyldig; overskrifterne genkendes uden hensyn til store og små "
                    "bogstaver.",
                    "Beløb skrives på dansk (1.234,56). Skriv aldrig navne eller CPR-numre på "
                    "borgere.",
                ],
            ),
        ]
    )
