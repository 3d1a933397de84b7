"""Pages: the notification log (company and staff) and the reminder settings of a user."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from code_portal.reminders import selectors, services
from code_portal.reminders.filters import NotificationFilter
from code_portal.reminders.forms import PreferenceForm

PAGE_SIZE = 25


def _filtered_page(request: HttpRequest, queryset, *, with_signatory: bool) -> dict:
    filterset = NotificationFilter(request.GET or None, queryset=queryset)
    if not with_signatory:
        del filterset.form.fields["signatory"]
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    query = request.GET.copy()
    query.pop("page", None)
    return {"filter": filterset, "query": query.urlencode(),
            "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))}


@login_required
def company_notifications(request: HttpRequest, pk: int) -> HttpResponse:
    signatory, qs = selectors.notification_list_for_signatory(request.user, pk)
    return render(request, "reminders/company_notifications.html",
                  {"signatory": signatory, **_filtered_page(request, qs, with_signatory=False)})


@login_required
def staff_notifications(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("reminders.view_all_notifications"):
        raise Http404
    qs = selectors.notification_list_for(request.user)
    return render(request, "reminders/staff_notifications.html",
                  _filtered_page(request, qs, with_signatory=True))


@login_required
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_get_for(request.user, pk)
    return render(request, "reminders/notification_detail.html", {"notification": notification})


@login_required
def reminder_preferences(request: HttpRequest) -> HttpResponse:
    current = services.reminder_preference_for(request.user)
    # not `request.POST or None`: unticking the only checkbox posts an empty form
    form = PreferenceForm(request.POST if request.method == "POST" else None,
                          initial={"optional_reminders": current})
    if request.method == "POST" and form.is_valid():
        services.reminder_preference_set(user=request.user,
                                         optional_reminders=form.cleaned_data["optional_reminders"])
        messages.success(request, _("Your reminder settings were saved."))
        return redirect("reminder-preferences")
    return render(request, "reminders/preferences.html", {"form": form, "current": current})
