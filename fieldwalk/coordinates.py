"""Latitude/longitude form fields, the rule that a position has both or neither, and distances."""

import math

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms import FloatField, Form
from wtforms.validators import NumberRange, Optional


def lat_field(label) -> FloatField:
    """An optional latitude in decimal degrees (WGS 84)."""
    return FloatField(
        label,
        validators=[Optional(), NumberRange(min=-90, max=90, message=_l("Latituden måste vara mellan -90 och 90."))],
    )


def lon_field(label) -> FloatField:
    """An optional longitude in decimal degrees (WGS 84)."""
    return FloatField(
        label,
        validators=[
            Optional(),
            NumberRange(min=-180, max=180, message=_l("Longituden måste vara mellan -180 och 180.")),
        ],
    )


class CoordinatePairs(Form):
    """Form mixin (listed before Form): for each (lat, lon) pair in `coordinate_pairs`, both or neither."""

    coordinate_pairs: tuple[tuple[str, str], ...] = (("lat", "lon"),)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for lat_name, lon_name in self.coordinate_pairs:
            lat, lon = self[lat_name], self[lon_name]
            if not lat.errors and not lon.errors and (lat.data is None) != (lon.data is None):
                missing = lon if lon.data is None else lat
                missing.errors = [*missing.errors, _l("Ange både latitud och longitud, eller ingen av dem.")]
                ok = False
        return ok


EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance in metres between two (lat, lon) points (haversine, mean Earth radius)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def format_position(lat: float, lon: float) -> str:
    """A position for people to read: 6 decimals (about 10 cm) with the reader's decimal sign, "56,879000;
    14,806000" in Swedish (a semicolon, as the comma is taken) and "56.879000, 14.806000" in English."""
    lat_text, lon_text = format_decimal(lat, "0.000000"), format_decimal(lon, "0.000000")
    return f"{lat_text}{'; ' if ',' in lat_text else ', '}{lon_text}"
