"""Parts of the Streamlit page kept out of app.py: one module per view or block."""
