"""The Streamlit web app: a view over the core and the pack (it computes nothing itself)."""
