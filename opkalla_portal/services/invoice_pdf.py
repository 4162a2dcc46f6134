"""An invoice as a PDF that looks like one: letterhead, bill-to, dates, lines, totals."""

from __future__ import annotations

from decimal import Decimal

from fpdf import FPDF

from opkalla_portal.services.invoices import InvoiceDetail
from opkalla_portal.services.money import format_money

INDIGO = (62, 99, 221)
TEAL = (18, 165, 148)
INK = (28, 32, 36)
MUTED = (96, 100, 108)
RULE = (220, 223, 228)
ZEBRA = (246, 247, 249)

# Column widths (mm) of the lines table on an A4/Letter page with 15 mm margins.
COLUMNS = (
    ("Product", 62, "L"),
    ("Service period", 36, "L"),
    ("Qty", 12, "R"),
    ("Unit price", 22, "R"),
    ("Proration", 16, "R"),
    ("Amount", 20, "R"),
    ("Tax", 18, "R"),
)


def _date(value) -> str:
    return value.strftime("%b %d, %Y")


def _text(value: str) -> str:
    """Core PDF fonts are Latin-1: replace what they cannot draw rather than fail."""
    return value.replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


class _InvoicePDF(FPDF):
    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def _logo(pdf: FPDF, x: float, y: float) -> None:
    pdf.set_draw_color(*INDIGO)
    pdf.set_line_width(1.2)
    pdf.circle(x=x + 4.5, y=y + 4.5, radius=3.9, style="D")
    pdf.set_fill_color(*TEAL)
    pdf.circle(x=x + 4.5, y=y + 4.5, radius=1.6, style="F")
    pdf.set_xy(x + 11, y + 0.5)
    pdf.set_font("Helvetica", "B", 18)
    pdf.set_text_color(*INK)
    pdf.cell(40, 8, "opkalla")


def render_invoice_pdf(detail: InvoiceDetail) -> bytes:
    """The invoice as PDF bytes (Letter size), every figure taken from `detail`."""
    summary = detail.summary
    money = lambda amount: format_money(amount, summary.currency_symbol)  # noqa: E731
    pdf = _InvoicePDF(format="Letter", unit="mm")
    pdf.set_title(f"Invoice {summary.invoice_id}")
    pdf.set_author("Opkalla")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=20)
    pdf.alias_nb_pages()
    pdf.add_page()
    width = pdf.w - 30

    _logo(pdf, 15, 15)
    pdf.set_xy(15, 15)
    pdf.set_font("Helvetica", "B", 24)
    pdf.set_text_color(*INDIGO)
    pdf.cell(width, 10, "INVOICE", align="R")
    pdf.set_xy(15, 26)
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(*MUTED)
    for line in detail.bill_from:
        pdf.cell(width / 2, 4.5, _text(line), new_x="LMARGIN", new_y="NEXT")

    # Invoice facts, right column.
    facts = [
        ("Invoice ID", summary.invoice_id),
        ("Invoice date", _date(summary.invoice_date)),
        ("Due date", _date(summary.due_date)),
        ("Service period", f"{_date(detail.period_start)} - {_date(detail.period_end)}"),
        ("Status", summary.status),
    ]
    if detail.contract_name:
        facts.append(("Contract", detail.contract_name))
    y = 27
    for label, value in facts:
        pdf.set_xy(15 + width - 95, y)
        pdf.set_font("Helvetica", size=9)
        pdf.set_text_color(*MUTED)
        pdf.cell(30, 5, label, align="R")
        pdf.set_font("Helvetica", "B", 9)
        pdf.set_text_color(*INK)
        pdf.cell(65, 5, _text(value), align="R")
        y += 5

    # Bill to.
    pdf.set_y(max(pdf.get_y(), y) + 8)
    pdf.set_font("Helvetica", "B", 8)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, "BILL TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    for index, line in enumerate(detail.bill_to):
        pdf.set_font("Helvetica", "B" if index == 0 else "", 10 if index == 0 else 9)
        pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    _lines_table(pdf, detail, money)
    _totals(pdf, detail, money, width)

    pdf.ln(10)
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(
        width,
        4,
        "Azure usage is billed in arrears; the daily detail is available from My Invoices "
        "> Download Usage. Questions about this invoice: support@opkalla.com. Thank you for doing "
        "business with Opkalla!",
        align="L",
    )
    return bytes(pdf.output())


def _lines_table(pdf: FPDF, detail: InvoiceDetail, money) -> None:
    def header() -> None:
        pdf.set_fill_color(*INDIGO)
        pdf.set_text_color(255, 255, 255)
        pdf.set_font("Helvetica", "B", 8)
        for title, w, align in COLUMNS:
            pdf.cell(w, 7, title, align=align, fill=True)
        pdf.ln()

    header()
    pdf.set_text_color(*INK)
    for index, line in enumerate(detail.lines):
        if pdf.will_page_break(7):
            pdf.add_page()
            header()
            pdf.set_text_color(*INK)
        pdf.set_font("Helvetica", size=8)
        pdf.set_fill_color(*(ZEBRA if index % 2 else (255, 255, 255)))
        values = (
            _text(line.product_name[:44]),
            f"{line.period_start:%m/%d/%y} - {line.period_end:%m/%d/%y}",
            str(line.quantity),
            money(line.unit_price),
            f"{(line.proration * 100).quantize(Decimal('0.1'))}%",
            money(line.amount),
            money(line.tax_amount),
        )
        for (_, w, align), value in zip(COLUMNS, values, strict=True):
            pdf.cell(w, 7, value, align=align, fill=True)
        pdf.ln()
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(15, pdf.get_y(), pdf.w - 15, pdf.get_y())
    pdf.ln(3)


def _totals(pdf: FPDF, detail: InvoiceDetail, money, width: float) -> None:
    summary = detail.summary
    paid = money(-detail.paid_amount) if detail.paid_amount else money(Decimal(0))
    rows = [
        ("Subtotal", money(detail.subtotal), False),
        ("Tax", money(detail.tax), False),
        ("Total", money(summary.total), True),
        ("Paid", paid, False),
        ("Balance due", money(summary.balance), True),
    ]
    for label, value, strong in rows:
        if pdf.will_page_break(8):
            pdf.add_page()
        pdf.set_x(15 + width - 80)
        pdf.set_font("Helvetica", "B" if strong else "", 11 if label == "Balance due" else 9)
        pdf.set_text_color(*(INDIGO if label == "Balance due" else INK))
        pdf.cell(45, 6.5, label, align="R")
        pdf.cell(35, 6.5, value, align="R", new_x="LMARGIN", new_y="NEXT")
