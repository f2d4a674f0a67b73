"""From what people give to Leads: legends and typed values, files, header matching, mapping,
validation, the form, lead identity and the row plan of a run.

Pure apart from reading the bytes of a file it is handed; imports only `leadstream.protocol`.
"""
