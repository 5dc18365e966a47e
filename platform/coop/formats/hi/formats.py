# Hindi: Django's own Hindi formats have no date-and-time format, so times fell back to the
# English 12-hour one, and Django's Hindi catalog writes both a.m. and p.m. as "बजे"
# ("o'clock"): "2 बजे" could be night or day. A 24-hour clock is unambiguous. The rest
# (DATE_FORMAT "j F Y", ...) comes from Django's Hindi formats.
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATETIME_FORMAT = "d-m-Y H:i"
