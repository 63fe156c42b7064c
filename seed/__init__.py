"""Demo and large synthetic data (SPEC 6): `python -m seed --size demo|large`.

`seed_database(engine=..., size="demo")` fills a fresh, migrated database; the app calls it on
the first start of the default database.
"""

from seed.generator import SIZES, SizeProfile
from seed.seeding import DATASET_KEY, SeedError, seed_database
from seed.writer import clear_database, existing_data, table_counts

__all__ = [
    "DATASET_KEY",
    "SIZES",
    "SeedError",
    "SizeProfile",
    "clear_database",
    "existing_data",
    "seed_database",
    "table_counts",
]
