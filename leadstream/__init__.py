"""LeadStream Desk: post leads to PhoneBurner's LeadStream (put_contact) safely."""

from leadstream.prepare.legend import FieldType, Legend, LegendField, parse_legend
from leadstream.protocol.lead import Lead, Phone, PhoneType
from leadstream.protocol.query import PHONEBURNER_URL, build_url, decode_query, mask_url
from leadstream.protocol.response import Code, PostResult, parse_response

__all__ = [
    "PHONEBURNER_URL",
    "Code",
    "FieldType",
    "Lead",
    "Legend",
    "LegendField",
    "Phone",
    "PhoneType",
    "PostResult",
    "build_url",
    "decode_query",
    "mask_url",
    "parse_legend",
    "parse_response",
]
