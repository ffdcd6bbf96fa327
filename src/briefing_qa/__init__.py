"""Briefing QA: verbatim, cited answers from safeguarding guidance."""

__version__ = "0.1.0"
