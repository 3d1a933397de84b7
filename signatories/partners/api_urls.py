"""API routes of the partners app, included by ``code_portal/urls.py`` under ``/api/v1/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from signatories.partners import api

router = DefaultRouter()
router.include_root_view = False
router.register("partners", api.PartnerViewSet, basename="api-partner")
router.register("partner-requests", api.AddressedRequestViewSet, basename="api-partner-request")

urlpatterns = [
    path("partners/rates/", api.RatesView.as_view(), name="api-partner-rates"),
    path("partner-confirmations/<str:token>/", api.PublicConfirmationView.as_view(),
         name="api-partner-confirmation"),
    path("partner-confirmations/<str:token>/confirm/", api.PublicConfirmView.as_view(),
         name="api-partner-confirmation-confirm"),
    path("partner-confirmations/<str:token>/decline/", api.PublicDeclineView.as_view(),
         name="api-partner-confirmation-decline"),
    path("", include(router.urls)),
]
