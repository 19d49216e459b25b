"""Walks: plan, run and view a trygghetsvandring, and collect suggested places before it."""
