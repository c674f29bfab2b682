"""Administrators maintain areas and populations here. No patient model is registered in the admin site."""

from __future__ import annotations

from django.contrib import admin

from casemgmt.accounts.admin_access import SuperuserOnly
from casemgmt.areas.models import Area, AreaPopulation


class PopulationInline(SuperuserOnly, admin.TabularInline):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    model = AreaPopulation
    extra = 0


@admin.register(Area)
class AreaAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
    inlines = [PopulationInline]


@admin.register(AreaPopulation)
class AreaPopulationAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    list_display = ("area", "year", "population")
    list_filter = ("year",)
    search_fields = ("area__code", "area__name")
    raw_id_fields = ("area",)
