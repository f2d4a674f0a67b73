"""The vendor's wire: what a lead is, how it travels as a query string, what the answers mean.

Pure: no I/O, no other layer of `leadstream` below it. `lead` holds the fields and phone types
(defined once), `query` the URL, masking and PHP-style decoding, `response` the answer codes with
their help for people.
"""
