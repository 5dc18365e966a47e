"""Deposit receipts and monthly statements as PDF (fpdf2: pure Python, no system
libraries) and CSV, with the co-op's details from the settings (``COOP_LEGAL_NAME``,
``COOP_ADDRESS``, ``COOP_REGISTRATION``, ``COOP_VAT_ID``, ``COOP_CONTACT_EMAIL``, the bank
account). The figures come from ``payments.statements``, which reads the ledger."""

import csv
import io
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from fpdf import FPDF

from core.money import format_amount, major_text
from payments.statements import LINE_LABELS, Receipt, Statement

# A Unicode font where the machine has one (names and addresses in any script); otherwise
# the PDF core font, which covers Latin-1, with other characters replaced.
_UNICODE_FONTS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
]


def coop_details() -> list[str]:
    lines = [settings.COOP_LEGAL_NAME, settings.COOP_ADDRESS]
    if settings.COOP_REGISTRATION:
        lines.append(_("Registration: %(number)s") % {"number": settings.COOP_REGISTRATION})
    if settings.COOP_VAT_ID:
        lines.append(_("VAT id: %(number)s") % {"number": settings.COOP_VAT_ID})
    lines.append(_("Contact: %(email)s") % {"email": settings.COOP_CONTACT_EMAIL})
    lines.append(
        _("Bank: %(name)s, IBAN %(iban)s, BIC %(bic)s")
        % {"name": settings.COOP_BANK_NAME, "iban": settings.COOP_BANK_IBAN, "bic": settings.COOP_BANK_BIC}
    )
    return [str(line) for line in lines]


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.set_title(title)
        self.set_author(settings.COOP_LEGAL_NAME)
        self.set_creator("coop-crowdwork")
        self._body_font = "Helvetica"
        self._unicode_ok = False
        for candidate in _UNICODE_FONTS:
            if candidate.exists():
                self.add_font("Body", fname=str(candidate))
                self._body_font, self._unicode_ok = "Body", True
                break
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()
        self.set_font(self._body_font, size=10)

    def text_line(self, text: str, *, size: float = 10, height: float = 5.5) -> None:
        self.set_font(self._body_font, size=size)
        self.multi_cell(0, height, self._safe(text), new_x="LMARGIN", new_y="NEXT")

    def row(self, label: str, value: str, *, width: float = 130) -> None:
        self.set_font(self._body_font, size=10)
        self.cell(width, 6, self._safe(label))
        self.cell(0, 6, self._safe(value), align="R", new_x="LMARGIN", new_y="NEXT")

    def rule(self) -> None:
        self.ln(2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)

    def _safe(self, text: str) -> str:
        return text if self._unicode_ok else text.encode("latin-1", "replace").decode("latin-1")

    def header_block(self, heading: str) -> None:
        for line in coop_details():
            self.text_line(line, size=9, height=4.5)
        self.ln(4)
        self.text_line(heading, size=16, height=9)


def receipt_pdf(receipt: Receipt) -> bytes:
    deposit, organisation = receipt.deposit, receipt.deposit.organisation
    document = _Document(_("Receipt %(number)s") % {"number": receipt.number})
    document.header_block(_("Receipt %(number)s") % {"number": receipt.number})
    document.text_line(_("Received from: %(name)s") % {"name": organisation.legal_name})
    document.text_line(
        _("Organisation: %(name)s (%(country)s)") % {"name": organisation.display_name, "country": organisation.country}
    )
    document.rule()
    document.row(_("Deposit reference"), deposit.reference)
    document.row(_("Method"), str(deposit.get_method_display()))
    document.row(_("Credited on (UTC)"), receipt.credited_at.strftime("%Y-%m-%d %H:%M"))
    document.row(_("Ledger transfer"), receipt.transfer_id)
    document.rule()
    document.row(_("Amount received"), format_amount(receipt.amount, receipt.currency))
    document.ln(4)
    document.text_line(
        _(
            "This amount was credited to the organisation's balance with the co-op. It pays workers' rewards "
            "and the co-op's fees as work is approved; what is not spent can be withdrawn."
        ),
        size=9,
    )
    return bytes(document.output())


def receipt_csv(receipt: Receipt) -> str:
    deposit = receipt.deposit
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["receipt", "reference", "organisation", "method", "credited_at", "amount", "currency",
                     "ledger_transfer", "issuer"])  # fmt: skip
    writer.writerow([receipt.number, deposit.reference, deposit.organisation.legal_name, deposit.method,
                     receipt.credited_at.isoformat(), major_text(receipt.amount, receipt.currency),
                     receipt.currency, receipt.transfer_id, settings.COOP_LEGAL_NAME])  # fmt: skip
    return out.getvalue()


SUMMARY_LABELS = {
    "deposits": gettext_lazy("Deposits"),
    "escrow_reserved": gettext_lazy("Reserved in escrow"),
    "escrow_returned": gettext_lazy("Returned from escrow"),
    "escrow_held_at_close": gettext_lazy("Held in escrow at the end of the month"),
    "payments_to_workers": gettext_lazy("Paid to workers (rewards and bonuses)"),
    "fees": gettext_lazy("Fees (co-op fees and card processing)"),
    "refunds_and_withdrawals": gettext_lazy("Refunds to cards and bank withdrawals"),
}


def statement_pdf(statement: Statement) -> bytes:
    organisation, currency = statement.organisation, statement.currency
    title = _("Statement %(month)s: %(name)s") % {
        "month": statement.month.strftime("%Y-%m"),
        "name": organisation.legal_name,
    }
    document = _Document(title)
    document.header_block(_("Statement for %(month)s") % {"month": statement.month.strftime("%Y-%m")})
    document.text_line(
        _("Organisation: %(name)s (%(display)s)")
        % {"name": organisation.legal_name, "display": organisation.display_name}
    )
    document.text_line(
        _("Period: %(start)s to %(end)s (UTC, end excluded)")
        % {"start": statement.start.strftime("%Y-%m-%d"), "end": statement.end.strftime("%Y-%m-%d")},
        size=9,
    )
    document.rule()
    document.text_line(_("Summary"), size=12, height=7)
    for key, amount in statement.summary.items():
        document.row(str(SUMMARY_LABELS[key]), format_amount(amount, currency))
    for heading, account in ((_("Available balance"), statement.available), (_("Escrow"), statement.escrow)):
        document.rule()
        document.text_line(str(heading), size=12, height=7)
        document.row(_("Opening balance"), format_amount(account.opening, currency))
        for key, amount in account.lines.items():
            document.row(str(LINE_LABELS[key]), format_amount(amount, currency))
        document.row(_("Closing balance"), format_amount(account.closing, currency))
    if statement.deposits:
        document.rule()
        document.text_line(_("Deposits credited this month"), size=12, height=7)
        for deposit in statement.deposits:
            assert deposit.credited_at is not None
            document.row(
                f"{deposit.reference} · {deposit.credited_at.strftime('%Y-%m-%d')} · {deposit.get_method_display()}",
                format_amount(deposit.credited_amount, deposit.currency),
            )
    document.ln(4)
    document.text_line(_("Every figure is a sum of the co-op's double-entry ledger for this organisation."), size=8)
    return bytes(document.output())


def statement_csv(statement: Statement) -> str:
    """One row per figure: section, line, amount (major units), currency."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "line", "amount", "currency"])
    currency = statement.currency

    def major(amount: int) -> str:
        return major_text(amount, currency)

    writer.writerow(["issuer", settings.COOP_LEGAL_NAME, "", ""])
    writer.writerow(["organisation", statement.organisation.legal_name, "", ""])
    writer.writerow(["period", statement.month.strftime("%Y-%m"), "", ""])
    for key, amount in statement.summary.items():
        writer.writerow(["summary", key, major(amount), currency])
    for section, account in (("available", statement.available), ("escrow", statement.escrow)):
        writer.writerow([section, "opening", major(account.opening), currency])
        for key, amount in account.lines.items():
            writer.writerow([section, key, major(amount), currency])
        writer.writerow([section, "closing", major(account.closing), currency])
    for deposit in statement.deposits:
        writer.writerow(["deposit", deposit.reference, major(deposit.credited_amount), deposit.currency])
    return out.getvalue()
