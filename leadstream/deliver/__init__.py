"""Getting Leads there: outcomes and retry rules, the HTTP client, the journal, targets and keys,
and the run engine (run settings, planning against the journal, the runner, results).

Imports `protocol` and `prepare`; never the sandbox, the CLI or Streamlit.
"""
