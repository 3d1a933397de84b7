from django.urls import path

from signatories import sampling_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("apply/", views.apply, name="apply"),
    path("members/", views.public_list, name="public-list"),
    path("company/<int:pk>/", views.company_dashboard, name="company-dashboard"),
    path("company/<int:pk>/profile/", views.company_profile, name="company-profile"),
    path("company/<int:pk>/sign/", views.company_sign, name="company-sign"),
    path("company/<int:pk>/team/", views.company_team, name="company-team"),
    path("company/<int:pk>/team/<int:membership_pk>/", views.membership_update,
         name="membership-update"),
    path("company/<int:pk>/invitations/<int:invitation_pk>/revoke/", views.invitation_revoke,
         name="invitation-revoke"),
    path("signatories/<int:pk>/transition/<str:name>/", views.signatory_transition,
         name="signatory-transition"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("account/api-token/", views.api_token, name="api-token"),
    path("staff/", views.staff_queue, name="staff-queue"),
    path("staff/signatories/", views.staff_signatory_list, name="staff-signatory-list"),
    path("staff/signatories/<int:pk>/", views.staff_signatory_detail,
         name="staff-signatory-detail"),
    path("staff/signatories/<int:pk>/history/", views.staff_signatory_history,
         name="staff-signatory-history"),
    path("staff/signatories/<int:pk>/notes/", views.staff_signatory_notes,
         name="staff-signatory-notes"),
    path("staff/audit-samples/", sampling_views.sample_list, name="staff-audit-samples"),
    path("staff/audit-samples/new/", sampling_views.sample_draw, name="staff-audit-sample-draw"),
    path("staff/audit-samples/<int:pk>/", sampling_views.sample_detail,
         name="staff-audit-sample"),
    path("staff/audit-items/<int:pk>/", sampling_views.item_detail, name="staff-audit-item"),
]
