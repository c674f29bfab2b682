"""The PDF builder: Chinese text is embedded (pdftotext reads it back), figures and the code appear."""

from __future__ import annotations

import subprocess
from pathlib import Path

from metrics.reports.pdf import PdfContent, render_pdf
from metrics.reports.rows import Row


def test_the_pdf_carries_the_chinese_title_figures_and_code(tmp_path: Path) -> None:
    rows = [Row("规范管理率", 7, 9, "77.78%", "≥80%", False), Row("面访率", 0, 0, "—", "—", None)]
    content = PdfContent(
        area_name="姑苏区",
        period_label="2025年",
        cutoff="2025-12-31",
        sections=[("姑苏区", rows)],
        footer=["指标口径：bphs-2017"],
        trend=[("规范管理率", [50.0, 60.0, None]), ("服药率", [80.0, 70.0, 90.0])],
        verification_code="0123456789ab",
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(content))
    command = ["/usr/bin/pdftotext", str(path), "-"]
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603  (fixed tool)
    assert "严重精神障碍患者管理指标报告" in text
    assert "77.78%" in text and "姑苏区" in text and "0123456789ab" in text
