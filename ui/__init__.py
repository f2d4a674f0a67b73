"""Shared Streamlit helpers for LeadStream Desk's pages: connection, cached resources, widgets.

Everything here may import streamlit; the rules it calls live in `leadstream/`, which never does.
"""
