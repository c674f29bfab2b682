from __future__ import annotations

from django.urls import path

from casemgmt.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.population_list, name="population_list"),
    path("<str:code>/<int:year>/", views.population_edit, name="population_edit"),
]
