"""Web routes of the reminders app, included by ``code_portal/urls.py``."""

from django.urls import path

from code_portal.reminders import views

urlpatterns = [
    path("account/reminders/", views.reminder_preferences, name="reminder-preferences"),
    path("company/<int:pk>/notifications/", views.company_notifications,
         name="company-notifications"),
    path("staff/notifications/", views.staff_notifications, name="staff-notifications"),
    path("notifications/<int:pk>/", views.notification_detail, name="notification-detail"),
]
