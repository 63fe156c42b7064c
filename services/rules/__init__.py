"""The domain rules (SPEC 4), pure: each rule in Python for one case and, where screens count or
filter by it, its SQL twin right beside it. Nothing here reads or writes the database."""
