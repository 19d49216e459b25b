"""Download routes for exports (CSV, XLSX, GeoJSON) of the action item and finding lists."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
