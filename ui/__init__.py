"""Session state and shared widgets for the Streamlit pages (the only package besides pages/ that imports streamlit)."""
