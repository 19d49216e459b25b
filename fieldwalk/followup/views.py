"""Follow-up pages: meetings, protocols and the medborgarlöfte dashboard."""

from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/followup")
