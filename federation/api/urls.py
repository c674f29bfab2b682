from django.urls import path

from federation.api import views

app_name = "federation"
urlpatterns = [
    path("batches", views.receive_batch, name="receive_batch"),
    path("indicators", views.indicators, name="indicators"),
]
