"""Domain rules and queries. Nothing here imports Streamlit."""
