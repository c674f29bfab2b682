"""Indicator options: defaults from settings, explicit overrides, the footer and the start-up check."""

from __future__ import annotations

from typing import Any

import pytest

from metrics.indicators.definitions import Options
from metrics.indicators.options import check_metrics_settings, default_options, footer_lines


def test_built_in_defaults_when_settings_are_absent(settings: Any) -> None:
    for name in ("METRICS_REGULAR_MANAGEMENT", "METRICS_MEDICATION_DENOMINATOR", "METRICS_DEATHS_IN_PERIOD"):
        if hasattr(settings, name):
            delattr(settings, name)
    assert default_options() == Options("quarterly", "registered", "excluded")


def test_settings_give_the_defaults_and_flags_override_them(settings: Any) -> None:
    settings.METRICS_REGULAR_MANAGEMENT = "interval-3m"
    settings.METRICS_MEDICATION_DENOMINATOR = "managed"
    settings.METRICS_DEATHS_IN_PERIOD = "included"
    assert default_options() == Options("interval-3m", "managed", "included")
    assert default_options(regular_management="quarterly", deaths_in_period=None) == Options(
        "quarterly", "managed", "included"
    )


def test_a_misspelt_setting_is_a_system_check_error(settings: Any) -> None:
    settings.METRICS_REGULAR_MANAGEMENT = "quaterly"
    errors = check_metrics_settings()
    assert [e.id for e in errors] == ["metrics.E001"]
    settings.METRICS_REGULAR_MANAGEMENT = "quarterly"
    assert check_metrics_settings() == []


@pytest.mark.parametrize(
    ("options", "phrase"),
    [
        (Options(regular_management="quarterly"), "自然季度"),
        (Options(regular_management="interval-3m"), "不超过3个月"),
        (Options(medication_denominator="managed"), "在管患者"),
        (Options(deaths_in_period="included"), "仍计入在册"),
    ],
)
def test_every_option_is_named_in_the_footer(options: Options, phrase: str) -> None:
    lines = footer_lines(options)
    assert len(lines) == 4 and "bphs-2017" in lines[0]
    assert any(phrase in line for line in lines)
