# Filipino: Django ships no formats for it, so dates fell back to the English
# abbreviations ("Dis. 6, 2026, 4 p.m."). Written the way Filipino texts write them:
# the month in full and a 12-hour clock ("Disyembre 6, 2026, 4:30 PM").
DATE_FORMAT = "F j, Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "F j, Y, g:i A"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "F j"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"
FIRST_DAY_OF_WEEK = 0  # Sunday
