from django.urls import path

from mturk import views

app_name = "mturk"

urlpatterns = [
    path("", views.endpoint, name="endpoint"),
    path("sandbox/", views.sandbox_endpoint, name="sandbox-endpoint"),
    path("externalSubmit", views.external_submit, name="external-submit"),
]
