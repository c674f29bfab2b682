"""The upload form of the workbook import page."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from casemgmt.tabular import SUFFIXES

ACCEPTED_SUFFIXES = SUFFIXES
MAX_UPLOAD_BYTES = 300 * 1024 * 1024  # a province-sized workbook (a few hundred thousand rows) fits well below


class UploadForm(forms.Form):
    workbook = forms.FileField(
        label=_("登记表文件"),
        help_text=_(
            "Excel或WPS表格（.xlsx、.xls）、OpenDocument（.ods）、CSV（UTF-8或GBK编码），或CSV文件打包的 .zip；"
            "单个 .csv 文件按文件名对应工作表（如followups.csv），否则视为patients工作表。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_SUFFIXES)}),
    )
    dry_run = forms.BooleanField(label=_("仅检查，不写入（试运行）"), required=False)

    def clean_workbook(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["workbook"]
        if Path(upload.name or "").suffix.lower() not in ACCEPTED_SUFFIXES:
            raise forms.ValidationError(_("请上传 .xlsx、.xls、.ods、.csv 或 .zip 文件。"))
        if (upload.size or 0) > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件过大：最大300 MB。"))
        return upload
