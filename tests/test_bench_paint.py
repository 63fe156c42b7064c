"""`python -m bench --cold-start`: a fresh server and Chromium until Overblik is painted.

Not a timed test: it checks the order of the moments and the table, never how fast."""

from bench import paint


def test_one_cold_start_is_measured_until_overblik_is_painted(demo_db: str):
    result = paint.run(demo_db, starts=1)

    [start] = result["starts"]
    assert 0 < start["healthy_s"] < start["loaded_s"] < start["painted_s"]
    assert result["painted_median_s"] == result["painted_max_s"] == start["painted_s"]
    table = paint.table({"Demo, SQLite": result})
    assert table.startswith("| Database | Server svarer | Side indlæst | Overblik vist |")
    assert "| Demo, SQLite |" in table
