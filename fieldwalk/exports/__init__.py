"""Exports of action items and findings: CSV, XLSX and GeoJSON."""
