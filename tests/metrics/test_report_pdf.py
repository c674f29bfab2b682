"""The PDF builder: Chinese text is embedded (pdftotext reads it back); page 1 is the summary (the area against
its targets, the child-area matrix with rates below target marked, the labelled trend); every page carries its
number and the verification code; names are escaped."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import cast

import pytest

from metrics.reports.document import AreaRef
from metrics.reports.pdf import MARK, PdfContent, render_pdf
from metrics.reports.rows import AreaSection, CountRow, Row

CODE = "0123456789ab"


def section(name: str, code: str, *, met: bool = False, missing: list[str] | None = None) -> AreaSection:
    rows = [
        Row("规范管理率", 7, 9, "77.78%", "≥80%", met, name="regular_management_rate", value=77.78),
        Row("面访率", 0, 0, "—", "—", None, name="face_to_face_rate"),
    ]
    counts = [CountRow("新登记患者", 3, "new_registrations"), CountRow("有肇祸的患者", 1, "disaster")]
    return AreaSection(AreaRef(code, name, 3 if code.endswith("000000") else 4), rows, counts, missing or [])


def content(**changes: object) -> PdfContent:
    base = {
        "period_label": "2025年",
        "cutoff": "2025-12-31",
        "own": section("姑苏区", "320508000000", missing=["城关镇 (320508001000)"]),
        "children": [section("A & B <x>", "320508001000"), section("乙街道", "320508002000", met=True)],
        "footer": ["指标口径：bphs-2017"],
        "trend": [("规范管理率", [50.0, 60.0, None]), ("服药率", [80.0, 70.0, 90.0])],
        "verification_code": CODE,
    }
    return PdfContent(**{**base, **changes})  # type: ignore[arg-type]


def pages(tmp_path: Path, pdf: PdfContent) -> list[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(pdf))
    command = ["/usr/bin/pdftotext", "-layout", str(path), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603  (fixed tool)
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def test_page_one_is_the_summary_with_targets_matrix_and_trend(tmp_path: Path) -> None:
    first, *rest = pages(tmp_path, content())
    assert "严重精神障碍患者管理指标报告" in first and "姑苏区 (320508000000)" in first
    assert "本地区指标与目标" in first and "77.78%" in first and "≥80%" in first and "未达标" in first
    assert "A & B <x>" in first and "乙街道" in first  # the matrix: one line per child area
    assert f"77.78%{MARK}" in first  # below target: marked
    assert "1月" in first and "12月" in first  # the trend's months are labelled
    assert "缺少常住人口数" in first and "城关镇 (320508001000)" in first
    detail = "\n".join(rest)
    assert "新登记患者" in detail and "有肇祸的患者" in detail  # counts in the detail
    assert "逐月数值" in detail and "50.0%" in detail
    assert detail.count("姑苏区") == 1  # the area heads its section; no row repeats it


def test_every_page_has_its_number_and_the_code(tmp_path: Path) -> None:
    many = [section(f"街道{i}", f"320508{i:03d}000") for i in range(1, 30)]
    texts = pages(tmp_path, content(children=many))
    assert len(texts) > 2
    for number, text in enumerate(texts, 1):
        assert f"第 {number} 页，共 {len(texts)} 页" in text
        assert CODE in text


def test_without_children_or_trend(tmp_path: Path) -> None:
    texts = pages(tmp_path, content(children=[], trend=[]))
    assert "趋势图因小数保护未显示" in texts[0] and "下级地区" not in texts[0]


@pytest.mark.parametrize("months", [1, 2, 12])
def test_the_trend_chart_draws_any_number_of_months(months: int) -> None:
    """A January or one-month report has a single point per series; reportlab refuses a one-point line, so the
    chart shows points (the PDF job once failed on it)."""
    from reportlab.graphics import renderPDF

    from metrics.reports.pdf import _chart

    trend: list[tuple[str, list[float | None]]] = [
        ("规范管理率", [80.0 + m for m in range(months)]),
        ("服药率", [*([None] * (months - 1)), 70.0]),
    ]
    pdf = cast("bytes", renderPDF.drawToString(_chart(trend)))  # bytes at run time (the stubs say str)
    assert pdf.startswith(b"%PDF")


def test_a_county_of_many_townships_keeps_page_one_to_one_page(tmp_path: Path) -> None:
    """Issue 13 §7: 48 townships made the page-1 matrix run over two pages, pushing the trend off the summary."""
    many = [section(f"街道{i}", f"320508{i:03d}000", met=i % 3 == 0) for i in range(1, 49)]
    first, second, *_rest = pages(tmp_path, content(children=many))
    assert "逐月趋势" in first and "1月" in first  # the trend stays on page 1
    assert "下级地区达标情况（共 48 个" in first and "32 / 48" in first  # 32 of 48 below target
    assert "街道1 77.78%" in first  # the lowest area named (the first of equals)
    assert "街道48" not in first
    assert "下级地区指标" in second and f"77.78%{MARK}" in second and "街道1 " in second  # the matrix opens page 2


def test_a_few_townships_keep_the_matrix_on_page_one(tmp_path: Path) -> None:
    few = [section(f"街道{i}", f"320508{i:03d}000") for i in range(1, 13)]
    first, *_rest = pages(tmp_path, content(children=few))
    assert "下级地区指标" in first and "街道12" in first and "达标情况" not in first
