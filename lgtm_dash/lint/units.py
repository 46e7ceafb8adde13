"""Grafana's unit ids (the standard unit picker) and the custom forms (`suffix:`, `si:`, `currency:`...)."""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STANDARD_UNITS = _words(
    """
    none string short sishort percent percentunit humidity dB candela hex0x hex sci locale pixel
    accMS2 accFS2 accG degree radian grad arcmin arcsec areaM2 areaF2 areaMI2 acres hectares
    flops mflops gflops tflops pflops eflops zflops yflops
    ppm conppb conngm3 conngNm3 conμgm3 conμgNm3 conmgm3 conmgNm3 congm3 congNm3 conmgdL conmmolL
    currencyUSD currencyGBP currencyEUR currencyJPY currencyRUB currencyUAH currencyBRL currencyDKK currencyISK
    currencyNOK currencySEK currencyCZK currencyCHF currencyPLN currencyBTC currencymBTC currencyμBTC currencyZAR
    currencyINR currencyKRW currencyIDR currencyPHP currencyVND
    bits bytes kbytes mbytes gbytes tbytes pbytes decbits decbytes deckbytes decmbytes decgbytes dectbytes decpbytes
    pps binBps Bps binbps bps KiBs Kibits KBs Kbits MiBs Mibits MBs Mbits GiBs Gibits GBs Gbits TiBs Tibits TBs
    Tbits PiBs Pibits PBs Pbits
    dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeAsLocal
    dateTimeAsLocalNoDateIfToday dateTimeAsSystem dateTimeFromNow
    watt kwatt megwatt gwatt mwatt Wm2 voltamp kvoltamp voltampreact kvoltampreact watth watthperkg kwatth kwattm
    mwatth amph kamph mamph joule ev amp kamp mamp volt kvolt mvolt dBm mohm ohm kohm Mohm farad µfarad nfarad
    pfarad ffarad henry mhenry µhenry lumens
    flowgpm flowcms flowcfs flowcfm litreh flowlpm flowmlpm lux
    forceNm forcekNm forceN forcekN Hs KHs MHs GHs THs PHs EHs
    massmg massg masslb masskg masst lengthmm lengthin lengthft lengthm lengthkm lengthmi
    pressurembar pressurebar pressurekbar pressurepa pressurehpa pressurekpa pressurehg pressurepsi
    radbq radci radgy radrad radsv radmsv radusv radrem radexpckg radr radsvh radmsvh radusvh
    rotrpm rothz rotrads rotdegs celsius fahrenheit kelvin
    hertz ns µs ms s m h d dtdurationms dtdurations dtdhms dthms timeticks clockms clocks
    cps ops reqps rps wps iops eps mps recps cpm opm reqpm rpm wpm epm mpm recpm
    velocityms velocitykmh velocitymph velocityknot mlitre litre m3 Nm3 dm3 gallons
    bool bool_yes_no bool_on_off
    """
)
CUSTOM_UNIT = re.compile(r"^(suffix|prefix|si|count|currency|time|bool):.+")


def is_valid_unit(unit: str) -> bool:
    return unit in STANDARD_UNITS or bool(CUSTOM_UNIT.match(unit))


# Unit names people write that Grafana spells otherwise.
_SPELLED_OUT = {
    "second": "s", "seconds": "s", "sec": "s", "secs": "s",
    "millisecond": "ms", "milliseconds": "ms", "msec": "ms", "millis": "ms",
    "microsecond": "µs", "microseconds": "µs", "us": "µs", "nanosecond": "ns", "nanoseconds": "ns",
    "minute": "m", "minutes": "m", "min": "m", "mins": "m", "hour": "h", "hours": "h", "day": "d", "days": "d",
    "byte": "bytes", "b": "bytes", "kb": "kbytes", "mb": "mbytes", "gb": "gbytes", "tb": "tbytes",
    "%": "percent", "pct": "percent", "percentage": "percent", "ratio": "percentunit", "fraction": "percentunit",
    "count": "short", "number": "short", "num": "short", "req/s": "reqps", "requests/s": "reqps",
    "ops/s": "ops", "rps": "reqps", "qps": "reqps",
}  # fmt: skip


def suggest_unit(unit: str) -> str | None:
    """The Grafana unit id someone writing `unit` most likely meant, or None."""
    import difflib

    known = {**{u.lower(): u for u in sorted(STANDARD_UNITS)}, **_SPELLED_OUT}
    lowered = unit.strip().lower()
    if lowered in known:
        return known[lowered]
    close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.75)
    return known[close[0]] if close else None
