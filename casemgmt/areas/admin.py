"""Administrators maintain areas and populations here. No patient model is registered in the admin site."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from casemgmt.accounts.admin_access import SuperuserOnly
from casemgmt.areas.models import Area, AreaChange, AreaPopulation


class PopulationInline(SuperuserOnly, admin.TabularInline):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    model = AreaPopulation
    extra = 0


@admin.register(Area)
class AreaAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    list_display = ("code", "name", "level", "parent", "retired_on")
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


@admin.register(AreaChange)
class AreaChangeAdmin(SuperuserOnly, admin.ModelAdmin):  # type: ignore[type-arg]  # the class is not subscriptable at run time
    """Read only: changes are loaded with ``manage.py load_area_changes``, which moves the records with them."""

    list_display = ("effective_date", "kind", "predecessor", "successor", "old_name", "new_name", "patients_moved")
    list_filter = ("kind",)
    search_fields = ("predecessor__code", "successor__code", "old_name", "new_name")

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
