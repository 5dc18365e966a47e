"""Payout providers' webhooks under /webhooks/ (Stripe's v1 endpoint lives in payments)."""

from django.urls import path

from payouts.api import paypal_webhook_view, stripe_event_notification_view, wise_webhook_view

urlpatterns = [
    path("stripe/v2/", stripe_event_notification_view, name="stripe-v2-webhook"),
    path("paypal/", paypal_webhook_view, name="paypal-webhook"),
    path("wise/", wise_webhook_view, name="wise-webhook"),
]
