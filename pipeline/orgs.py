"""Organisation names: interpretation of org rule matches (placeholder, see below)."""
from __future__ import annotations


def interpret(rule, m, text, rules, tokens) -> dict:
    return {"value": m.group(0), "value_max": "", "unit": "", "qualifier": "", "category": rule.category or "other"}
