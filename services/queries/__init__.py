"""Read models per screen: the queries behind each page, aggregated in SQL."""
