"""Excel workbooks, CSV files and printable pages built from query results."""
