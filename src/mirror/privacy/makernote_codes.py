"""What the numbers in camera makers' notes stand for, where they name a place: the cities a camera keeps its home
and travel time zones by, as exiftool prints them (Pentax.pm's %pentaxCities, Canon.pm's TimeZoneCity).

Example::

    PENTAX_CITIES[29]   # "Moscow": a Pentax's HometownCity 29
    CANON_CITIES[17]    # "Moscow": a Canon's TimeZoneCity 17

Each maps the number the camera stores to the city; a number it lacks is shown as the number. The tables are
written city first (dictionary keys), so the translation catalogs take the cities for data, not for words.
"""

from __future__ import annotations

# Pentax's world-time cities (HometownCity, DestinationCity; Optio and K models), by number
_PENTAX_CITIES = {
    "Pago Pago": 0, "Honolulu": 1, "Anchorage": 2, "Vancouver": 3, "San Francisco": 4, "Los Angeles": 5, "Calgary": 6,
    "Denver": 7, "Mexico City": 8, "Chicago": 9, "Miami": 10, "Toronto": 11, "New York": 12, "Santiago": 13,
    "Caracus": 14, "Halifax": 15, "Buenos Aires": 16, "Sao Paulo": 17, "Rio de Janeiro": 18, "Madrid": 19,
    "London": 20, "Paris": 21, "Milan": 22, "Rome": 23, "Berlin": 24, "Johannesburg": 25, "Istanbul": 26, "Cairo": 27,
    "Jerusalem": 28, "Moscow": 29, "Jeddah": 30, "Tehran": 31, "Dubai": 32, "Karachi": 33, "Kabul": 34, "Male": 35,
    "Delhi": 36, "Colombo": 37, "Kathmandu": 38, "Dacca": 39, "Yangon": 40, "Bangkok": 41, "Kuala Lumpur": 42,
    "Vientiane": 43, "Singapore": 44, "Phnom Penh": 45, "Ho Chi Minh": 46, "Jakarta": 47, "Hong Kong": 48,
    "Perth": 49, "Beijing": 50, "Shanghai": 51, "Manila": 52, "Taipei": 53, "Seoul": 54, "Adelaide": 55, "Tokyo": 56,
    "Guam": 57, "Sydney": 58, "Noumea": 59, "Wellington": 60, "Auckland": 61, "Lima": 62, "Dakar": 63, "Algiers": 64,
    "Helsinki": 65, "Athens": 66, "Nairobi": 67, "Amsterdam": 68, "Stockholm": 69, "Lisbon": 70, "Copenhagen": 71,
    "Warsaw": 72, "Prague": 73, "Budapest": 74,
}
PENTAX_CITIES = {number: city for city, number in _PENTAX_CITIES.items()}
# Canon's time-zone cities (TimeInfo's TimeZoneCity); 0 is "n/a" (PowerShot models) and 32766 "(not set)": no place
_CANON_CITIES = {
    "n/a": 0, "Chatham Islands": 1, "Wellington": 2, "Solomon Islands": 3, "Sydney": 4, "Adelaide": 5, "Tokyo": 6,
    "Hong Kong": 7, "Bangkok": 8, "Yangon": 9, "Dhaka": 10, "Kathmandu": 11, "Delhi": 12, "Karachi": 13, "Kabul": 14,
    "Dubai": 15, "Tehran": 16, "Moscow": 17, "Cairo": 18, "Paris": 19, "London": 20, "Azores": 21,
    "Fernando de Noronha": 22, "Sao Paulo": 23, "Newfoundland": 24, "Santiago": 25, "Caracas": 26, "New York": 27,
    "Chicago": 28, "Denver": 29, "Los Angeles": 30, "Anchorage": 31, "Honolulu": 32, "Samoa": 33,
}
CANON_CITIES = {number: city for city, number in _CANON_CITIES.items()}
CANON_UNSET = frozenset({0, 32766})
